// Configuration: the schema, the loader (file + environment) and the commented
// template written by `sealpost init`.
export { type LoadOptions, loadConfig } from './load.ts';
export { type Config, configSchema, parseSize } from './schema.ts';
export { renderConfig, type TemplateValues } from './template.ts';
