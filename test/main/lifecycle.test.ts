/**
 * The main process's life (src/main/index.ts): one instance, files from the command line, from a
 * second launch and from macOS's open-file, the menu, quitting. Electron is faked
 * (./fake_electron.ts: it cannot run here); everything else is the real main process.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IPC_EVENT } from '../../src/contract/api.js';
import { bootMain, closeAllWindows, createFakeElectron, electronModule, fakeEvent, type FakeElectron } from './fake_electron.js';

const holder = vi.hoisted(() => ({ current: undefined as FakeElectron | undefined }));
vi.mock('electron', () => electronModule(holder));
// Each started app's windows close after its test, and their lab hosts with them.
afterEach(closeAllWindows);
vi.spyOn(console, 'warn').mockImplementation(() => {});

async function start(argv: string[] = [], options: { singleInstance?: boolean } = {}): Promise<FakeElectron> {
  const fake = createFakeElectron({ isPackaged: true, ...options });
  await bootMain(holder, fake, { argv });
  await fake.app.becomeReady();
  return fake;
}

describe('the main process', () => {
  it('opens one window with the files named on the command line, once the page has loaded', async () => {
    const fake = await start(['--enable-logging', 'labs/boot.xenlab', 'file:///tmp/run%201.xenrec']);
    expect(fake.windows).toHaveLength(1);
    const window = fake.windows[0]!;
    expect(window.webContents.messages(IPC_EVENT)).toEqual([]);
    window.finishLoad();
    expect(window.webContents.messages(IPC_EVENT)).toEqual([
      { event: 'app.openPath', payload: { path: join(process.cwd(), 'labs/boot.xenlab') } },
      { event: 'app.openPath', payload: { path: '/tmp/run 1.xenrec' } },
    ]);
  });

  it('quits at once when another instance runs (that one gets the files)', async () => {
    const fake = await start(['a.xenlab'], { singleInstance: false });
    expect(fake.app.quitCalled).toBe(true);
    expect(fake.windows).toHaveLength(0);
  });

  it("opens a second launch's files in the existing window", async () => {
    const fake = await start();
    const window = fake.windows[0]!;
    window.finishLoad();
    fake.app.emit('second-instance', fakeEvent(), ['/opt/XenLab/xenlab-desktop', '--original-process-start-time=1', 'ring.yaml'], '/home/ada/labs', {});
    expect(fake.windows).toHaveLength(1);
    expect(window.webContents.messages(IPC_EVENT)).toEqual([{ event: 'app.openPath', payload: { path: '/home/ada/labs/ring.yaml' } }]);
    expect(window.focusCount).toBe(1);
  });

  it("opens macOS's open-file, before and after the app is ready", async () => {
    const fake = createFakeElectron({ isPackaged: true });
    await bootMain(holder, fake);
    const early = fakeEvent();
    fake.app.emit('open-file', early, '/Users/ada/first.xenlab');
    expect(early.defaultPrevented).toBe(true);
    await fake.app.becomeReady();
    const window = fake.windows[0]!;
    window.finishLoad();
    fake.app.emit('open-file', fakeEvent(), '/Users/ada/second.xenrec');
    expect(window.webContents.messages(IPC_EVENT)).toEqual([
      { event: 'app.openPath', payload: { path: '/Users/ada/first.xenlab' } },
      { event: 'app.openPath', payload: { path: '/Users/ada/second.xenrec' } },
    ]);
  });

  it('installs the application menu with the Run keys', async () => {
    const fake = await start();
    const labels = fake.menu.current?.map((m) => m.label ?? m.role);
    expect(labels).toEqual(process.platform === 'darwin' ? ['XenLab', 'File', 'Edit', 'Run', 'View', 'windowMenu', 'help'] : ['File', 'Edit', 'Run', 'View', 'help']);
  });

  it('keeps its data in userData, under the name XenLab', async () => {
    const fake = await start();
    expect(fake.app.getName()).toBe('XenLab');
  });

  it('quits when the last window closes (but on macOS)', async () => {
    const fake = await start();
    fake.windows[0]!.destroy();
    fake.app.emit('window-all-closed');
    expect(fake.app.quitCalled).toBe(process.platform !== 'darwin');
  });

  it('reopens a window on activate when none is open (macOS dock click)', async () => {
    const fake = await start();
    fake.windows[0]!.destroy();
    fake.app.emit('activate');
    expect(fake.windows.filter((w) => !w.destroyed)).toHaveLength(1);
    fake.app.emit('activate');
    expect(fake.windows.filter((w) => !w.destroyed)).toHaveLength(1);
  });
});
