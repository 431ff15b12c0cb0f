// Globals that web/ reads or sets on window.
interface Window {
  /** Set (true) by a page before the extensions load to get window.__seedNumberPanel (tests, benchmarks). */
  __seedNumberDebug?: boolean;
  /** The panel's debugging and benchmarking handle (web/panel.js debugHook), when opted in. */
  __seedNumberPanel?: object;
}
