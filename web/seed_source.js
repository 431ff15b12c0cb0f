// @ts-check
// Seed Source in the graph editor: shows the seed each run used, and two one-click actions.
// Plain ES module; ComfyUI core only through scripts/app.js and scripts/api.js, siblings relatively.
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { copyText, MAX_SEED, nodeById, randomSeed, SEED_SOURCE, setWidget, toast, widget } from "./common.js";

/** @import { LGraphNode } from "../typings/comfy" */

const RECEIPT = "seed_number_receipt";
const IDEOGRAM_MAX_SEED = 2147483647;
const USED_PREFIX = "used: ";

/** A Seed Source node, with the seed its last run used (set from that run's receipt). */
/** @typedef {LGraphNode & {seedNumberUsed?: number}} SeedSourceNode */

/**
 * Shows the seed a run used on the node's "used" button (a sweep shows its range too).
 * @param {SeedSourceNode} node
 * @param {number} seed
 * @param {unknown} seeds  the receipt's `seeds` (a sweep's list)
 */
function showUsed(node, seed, seeds) {
  node.seedNumberUsed = seed;
  const w = widget(node, "used");
  // A seed sweep (count > 1) shows its range; the first seed is the one "reuse" and "copy" take.
  const range = Array.isArray(seeds) && seeds.length > 1 ? ` … ${seeds[seeds.length - 1]} (${seeds.length} seeds)` : "";
  if (w) w.label = USED_PREFIX + String(seed) + range;
  node.setDirtyCanvas?.(true, true);
}

/**
 * A button widget that is neither saved nor sent: `options.serialize: false` keeps it out of the
 * API prompt (graphToPrompt), `serialize = false` out of the workflow's widgets_values. Two flags,
 * two places: both are needed.
 * @param {LGraphNode} node
 * @param {string} name
 * @param {string} label
 * @param {() => void} action
 */
function addButton(node, name, label, action) {
  // @ts-expect-error: options.serialize is ComfyUI's (its IWidgetOptions augmentation in the published
  // types names an internal module path, so it does not apply); graphToPrompt reads it.
  const w = node.addWidget("button", name, undefined, action, { serialize: false });
  w.label = label;
  w.serialize = false;
  return w;
}

app.registerExtension({
  name: "SeedNumber.SeedSource",

  /** @param {SeedSourceNode} node */
  nodeCreated(node) {
    if (node.comfyClass !== SEED_SOURCE) return;
    addButton(node, "used", USED_PREFIX + "—", () => {
      if (node.seedNumberUsed === undefined) return;
      void copyText(app, String(node.seedNumberUsed), "Seed copied");
    });
    addButton(node, "new_random_seed", "⚄ new fixed random seed", () => {
      const ideogram = widget(node, "ideogram_range")?.value === true;
      setWidget(node, "seed_number", randomSeed(ideogram ? IDEOGRAM_MAX_SEED : MAX_SEED), app.canvas);
      setWidget(node, "mode", "fixed", app.canvas);
    });
    addButton(node, "reuse_used_seed", "♻ reuse last used seed", () => {
      if (node.seedNumberUsed === undefined) {
        toast(app, "warn", "No seed used yet", "Run the workflow once first.");
        return;
      }
      setWidget(node, "seed_number", node.seedNumberUsed, app.canvas);
      setWidget(node, "mode", "fixed", app.canvas);
    });
  },

  setup() {
    api.addEventListener("executed", ({ detail }) => {
      const receipt = detail?.output?.[RECEIPT]?.[0];
      if (!receipt || typeof receipt.seed !== "number") return;
      const node = nodeById(app.graph, detail.display_node ?? detail.node);
      if (node && node.comfyClass === SEED_SOURCE) showUsed(node, receipt.seed, receipt.seeds);
    });
  },
});
