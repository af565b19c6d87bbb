// A minimal Reflect metadata shim (the decorator-metadata proposal's get/define
// functions) for @peculiar/x509, whose dependency tsyringe refuses to load without
// `Reflect.getMetadata`. Only the functions tsyringe calls are provided, only when
// absent, so a real polyfill (reflect-metadata, core-js) loaded first always wins.
// Invariant: import this before the first import of @peculiar/x509 (dev-certificate.ts
// loads the library dynamically after calling installReflectMetadataShim()).

type Key = string | symbol | undefined;
const store = new WeakMap<object, Map<Key, Map<unknown, unknown>>>();

function table(target: object, property: Key, create: boolean): Map<unknown, unknown> | undefined {
  let byProperty = store.get(target);
  if (byProperty === undefined) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let entries = byProperty.get(property);
  if (entries === undefined && create) {
    entries = new Map();
    byProperty.set(property, entries);
  }
  return entries;
}

function getOwnMetadata(key: unknown, target: object, property?: Key): unknown {
  return table(target, property, false)?.get(key);
}

function hasOwnMetadata(key: unknown, target: object, property?: Key): boolean {
  return table(target, property, false)?.has(key) ?? false;
}

function getMetadata(key: unknown, target: object, property?: Key): unknown {
  for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t)) {
    if (hasOwnMetadata(key, t, property)) return getOwnMetadata(key, t, property);
  }
  return undefined;
}

function defineMetadata(key: unknown, value: unknown, target: object, property?: Key): void {
  table(target, property, true)!.set(key, value);
}

export function installReflectMetadataShim(): void {
  const r = Reflect as unknown as Record<string, unknown>;
  if (typeof r['getMetadata'] === 'function') return;
  Object.assign(r, { getMetadata, getOwnMetadata, hasOwnMetadata, defineMetadata });
}
