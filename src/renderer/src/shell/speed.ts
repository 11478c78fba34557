/** The speed control's stops: slow motion by units per second, real time and multiples, as fast as possible. */
import type { Speed } from '../../../contract/session.js';

export interface SpeedStop {
  label: string;
  speed: Speed;
}

export const SPEED_STOPS: readonly SpeedStop[] = [
  { label: '1 unit/s', speed: { mode: 'units', perSecond: 1 } },
  { label: '4 units/s', speed: { mode: 'units', perSecond: 4 } },
  { label: '20 units/s', speed: { mode: 'units', perSecond: 20 } },
  { label: '100 units/s', speed: { mode: 'units', perSecond: 100 } },
  { label: '1,000 units/s', speed: { mode: 'units', perSecond: 1000 } },
  { label: '0.01× real time', speed: { mode: 'realtime', factor: 0.01 } },
  { label: '0.1× real time', speed: { mode: 'realtime', factor: 0.1 } },
  { label: 'Real time', speed: { mode: 'realtime', factor: 1 } },
  { label: '10× real time', speed: { mode: 'realtime', factor: 10 } },
  { label: '100× real time', speed: { mode: 'realtime', factor: 100 } },
  { label: 'As fast as possible', speed: { mode: 'max' } },
];

export function sameSpeed(a: Speed, b: Speed): boolean {
  if (a.mode !== b.mode) return false;
  if (a.mode === 'units' && b.mode === 'units') return a.perSecond === b.perSecond;
  if (a.mode === 'realtime' && b.mode === 'realtime') return a.factor === b.factor;
  return true;
}

export function speedIndex(s: Speed): number {
  return SPEED_STOPS.findIndex((x) => sameSpeed(x.speed, s));
}
