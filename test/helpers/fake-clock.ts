/** Tests drive time by hand with the same clock `hourglass replay` uses. */
export { ManualClock as FakeClock } from '../../src/component/manual-clock.js';
