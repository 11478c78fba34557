/** Files named on a command line (src/main/launch_args.ts). No Electron here. */
import { describe, expect, it } from 'vitest';
import { pathsFromArgv } from '../../src/main/launch_args.js';

describe('pathsFromArgv', () => {
  it('takes the arguments after the app, resolved against the working directory', () => {
    expect(pathsFromArgv(['/opt/XenLab/xenlab-desktop', 'a.xenlab', '/abs/b.xenrec'], '/home/ada', 1)).toEqual(['/home/ada/a.xenlab', '/abs/b.xenrec']);
  });

  it('skips the app folder under `electron .`', () => {
    expect(pathsFromArgv(['/usr/lib/electron', '.', 'x.yaml'], '/src/xenlab', 2)).toEqual(['/src/xenlab/x.yaml']);
  });

  it("skips switches, Chromium's too, but not after --", () => {
    expect(pathsFromArgv(['app', '--no-sandbox', '-v', '--original-process-start-time=13', 'x.yaml', '--', '-odd.yaml'], '/w', 1)).toEqual([
      '/w/x.yaml',
      '/w/-odd.yaml',
    ]);
  });

  it('turns file:// URIs (desktop launchers with %U) into paths and ignores other URLs', () => {
    expect(pathsFromArgv(['app', 'file:///home/ada/my%20lab.xenlab', 'https://example.com/x.yaml', 'file://%zz'], '/w', 1)).toEqual([
      '/home/ada/my lab.xenlab',
    ]);
  });

  it('names each file once', () => {
    expect(pathsFromArgv(['app', 'a.yaml', './a.yaml', '', '/w/a.yaml'], '/w', 1)).toEqual(['/w/a.yaml']);
  });
});
