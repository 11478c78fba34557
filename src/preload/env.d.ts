/** Replaced at build time by electron.vite.config.ts (`define`) with package.json's version. */
declare const __XENLAB_VERSION__: string;
