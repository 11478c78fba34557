/** The app's name and id, shared by index.ts and the installers' configuration (electron-builder.yml; a test checks they agree). */
export const APP_NAME = 'XenLab';
/** electron-builder's appId: macOS's bundle id, Windows's AppUserModelID (taskbar grouping, jump list). */
export const APP_ID = 'org.xenlab.desktop';
