// The xenbus device plumbing split drivers stand on: the toolstack's device directories, dom0's
// backend bus over xenstored's socket, and a XenbusDevice at each end driving the XenbusState handshake.
import { describe, expect, it } from 'vitest';
import {
  backendPath,
  frontendPath,
  XenbusStateClosed,
  XenbusStateClosing,
  XenbusStateConnected,
  XenbusStateInitialised,
  XenbusStateInitWait,
} from '../../src/core/abi/xenbus.js';
import { MiniOsKernel, miniosKernel } from '../../src/core/guest/minios.js';
import { XenbusDevice } from '../../src/core/guest/xenbus_device.js';
import { Hypervisor } from '../../src/core/hv/hypervisor.js';
import { Dom0Kernel, dom0Kernel } from '../../src/core/tools/dom0_modern.js';

function machine() {
  const hv = new Hypervisor({ seed: 3 });
  const dom0 = hv.createDomain({ name: 'dom0' }, dom0Kernel());
  const k0 = dom0.kernel as Dom0Kernel;
  const g = hv.createDomain({ name: 'guest' });
  k0.buildGuest(g);
  hv.boot(g, miniosKernel());
  // Let Mini-OS finish looking for devices at boot, so the devices these tests add are theirs alone.
  hv.run(1_000_000);
  return { hv, k0, g, mini: g.kernel as MiniOsKernel };
}

describe('xenbus devices (xenbus_device.ts, xenbus_backend.ts, Dom0Kernel.addDevice)', () => {
  it('addDevice writes both directories, naming each other, in XenbusStateInitialising, with their owners', () => {
    const { k0, g } = machine();
    const { frontend, backend } = k0.addDevice(g, 'vbd', 51712, { frontend: { 'virtual-device': '51712' }, backend: { mode: 'w' } });
    expect(frontend).toBe(frontendPath(g.domid, 'vbd', 51712));
    expect(backend).toBe(backendPath(0, 'vbd', g.domid, 51712));
    const xs = k0.xenstored;
    expect(xs.readValue(`${frontend}/backend`)).toBe(backend);
    expect(xs.readValue(`${frontend}/backend-id`)).toBe('0');
    expect(xs.readValue(`${frontend}/state`)).toBe('1');
    expect(xs.readValue(`${frontend}/virtual-device`)).toBe('51712');
    expect(xs.readValue(`${backend}/frontend`)).toBe(frontend);
    expect(xs.readValue(`${backend}/frontend-id`)).toBe(String(g.domid));
    expect(xs.readValue(`${backend}/online`)).toBe('1');
    expect(xs.readValue(`${backend}/mode`)).toBe('w');
    expect(xs.readValue(`${backend}/state`)).toBe('1');
  });

  it('runs the handshake Initialising → InitWait → Initialised → Connected in order, then Closing → Closed', () => {
    const { hv, k0, g, mini } = machine();
    const seen: string[] = [];
    let beDev: XenbusDevice | undefined;
    k0.registerBackend('vbd', (dev, fe, devid) => {
      seen.push(`probe fe=${fe} devid=${devid}`);
      beDev = dev;
      dev.write('feature-flush-cache', '1');
      dev.switchState(XenbusStateInitWait);
      return {
        otherendChanged: (d, state) => {
          seen.push(`be sees ${state}`);
          if (state === XenbusStateInitialised) {
            d.readOtherend('ring-ref', (err, ref) => {
              seen.push(`be reads ring-ref ${err ?? ref}`);
              d.switchState(XenbusStateConnected);
            });
          }
          if (state === XenbusStateClosing) d.switchState(XenbusStateClosed);
        },
        remove: () => void seen.push('remove'),
      };
    });
    const { frontend } = k0.addDevice(g, 'vbd', 51712);
    const fe = new XenbusDevice(mini.xenbus!, frontend, 'frontend', {
      otherendChanged: (d, state) => {
        seen.push(`fe sees ${state}`);
        if (state === XenbusStateInitWait) {
          d.write('ring-ref', '9', () => d.switchState(XenbusStateInitialised));
        } else if (state === XenbusStateConnected) d.switchState(XenbusStateConnected);
        else if (state === XenbusStateClosed) d.switchState(XenbusStateClosed);
      },
    });
    fe.start();
    hv.run(1_000_000);
    expect(fe.otherendId).toBe(0);
    expect(beDev!.otherendId).toBe(g.domid);
    expect(fe.state).toBe(XenbusStateConnected);
    expect(beDev!.state).toBe(XenbusStateConnected);
    expect(seen).toEqual([
      `probe fe=${g.domid} devid=51712`,
      'be sees 1',
      'fe sees 2',
      'be sees 3',
      'be reads ring-ref 9',
      'fe sees 4',
      'be sees 4',
    ]);
    expect(k0.xenstored.readValue(`${frontend}/state`)).toBe('4');

    fe.switchState(XenbusStateClosing);
    hv.run(1_000_000);
    expect(seen.slice(7)).toEqual(['be sees 5', 'fe sees 6', 'be sees 6']);
    expect(beDev!.state).toBe(XenbusStateClosed);
    expect(fe.state).toBe(XenbusStateClosed);
  });

  it('removes a backend instance when its directory goes', () => {
    const { hv, k0, g } = machine();
    const removed: number[] = [];
    k0.registerBackend('vif', (_dev, _fe, devid) => ({ otherendChanged: () => {}, remove: () => void removed.push(devid) }));
    const { backend } = k0.addDevice(g, 'vif', 0);
    k0.addDevice(g, 'vif', 1);
    hv.run(1_000_000);
    expect([...k0.backendBus('vif')!.devices.keys()]).toEqual([backend, backendPath(0, 'vif', g.domid, 1)]);
    k0.kernelXenbus.rm(backend);
    hv.run(1_000_000);
    expect(removed).toEqual([0]);
    expect(k0.backendBus('vif')!.devices.size).toBe(1);
  });
});
