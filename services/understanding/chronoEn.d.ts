/**
 * chrono-node's English-only entry (`chrono-node/en`, a quarter of the full package's load time), typed from
 * the package's own declarations: the project's module resolution does not read package export maps.
 */
declare module 'chrono-node/en' {
  export * from 'chrono-node/dist/esm/locales/en';
}
