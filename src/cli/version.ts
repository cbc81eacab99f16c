// Replaced at build time by scripts/build.mjs (define), read from package.json.
declare const __PODID_VERSION__: string | undefined;
export const VERSION: string = typeof __PODID_VERSION__ === 'string' ? __PODID_VERSION__ : '0.0.0-dev';
