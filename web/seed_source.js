// Seed Source in the graph editor: shows the seed each run used, and two one-click actions.
// Plain ES module; ComfyUI core only through scripts/app.js and scripts/api.js.
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";

const NODE_TYPE = "SeedSource|SeedNumber";
const RECEIPT = "seed_number_receipt";
const MAX_SEED = 2 ** 53 - 1;
const IDEOGRAM_MAX_SEED = 2147483647;
const USED_PREFIX = "used: ";

/** A random integer in 0 … max from the browser's CSPRNG (max ≤ 2^53 − 1). */
export function randomSeed(max = MAX_SEED) {
  const words = new Uint32Array(2);
  for (;;) {
    crypto.getRandomValues(words);
    const value = (words[0] & 0x1fffff) * 2 ** 32 + words[1]; // 53 random bits
    if (max === MAX_SEED) return value;
    const limit = Math.floor((MAX_SEED + 1) / (max + 1)) * (max + 1);
    if (value < limit) return value % (max + 1);
  }
}

function widget(node, name) {
  return node.widgets?.find((w) => w.name === name);
}

function setWidget(node, name, value) {
  const w = widget(node, name);
  if (!w) return;
  w.value = value;
  w.callback?.(value, app.canvas, node);
}

/** The node a (possibly subgraph, "5:3") execution id refers to, or null. */
export function findNode(id) {
  const parts = String(id).split(":");
  let graph = app.graph;
  let node = null;
  for (const part of parts) {
    node = graph?.getNodeById?.(part) ?? graph?.getNodeById?.(Number(part)) ?? null;
    if (!node) return null;
    graph = node.subgraph;
  }
  return node;
}

function showUsed(node, seed, seeds) {
  node.seedNumberUsed = seed;
  const w = widget(node, "used");
  // A seed sweep (count > 1) shows its range; the first seed is the one "reuse" and "copy" take.
  const range = Array.isArray(seeds) && seeds.length > 1 ? ` … ${seeds[seeds.length - 1]} (${seeds.length} seeds)` : "";
  if (w) w.label = USED_PREFIX + String(seed) + range;
  node.setDirtyCanvas?.(true, true);
}

function toast(severity, summary, detail) {
  app.extensionManager?.toast?.add?.({ severity, summary, detail, life: 3000 });
}

function addButton(node, name, label, action) {
  const w = node.addWidget("button", name, null, action, { serialize: false });
  w.label = label;
  w.serialize = false; // not a saved widget value, not an API input
  return w;
}

app.registerExtension({
  name: "SeedNumber.SeedSource",

  nodeCreated(node) {
    if (node.comfyClass !== NODE_TYPE) return;
    addButton(node, "used", USED_PREFIX + "—", async () => {
      if (node.seedNumberUsed === undefined) return;
      try {
        await navigator.clipboard.writeText(String(node.seedNumberUsed));
        toast("info", "Seed copied", String(node.seedNumberUsed));
      } catch {
        toast("warn", "Could not copy", "The browser refused clipboard access.");
      }
    });
    addButton(node, "new_random_seed", "⚄ new fixed random seed", () => {
      const ideogram = widget(node, "ideogram_range")?.value === true;
      setWidget(node, "seed_number", randomSeed(ideogram ? IDEOGRAM_MAX_SEED : MAX_SEED));
      setWidget(node, "mode", "fixed");
    });
    addButton(node, "reuse_used_seed", "♻ reuse last used seed", () => {
      if (node.seedNumberUsed === undefined) {
        toast("warn", "No seed used yet", "Run the workflow once first.");
        return;
      }
      setWidget(node, "seed_number", node.seedNumberUsed);
      setWidget(node, "mode", "fixed");
    });
  },

  setup() {
    api.addEventListener("executed", ({ detail }) => {
      const receipt = detail?.output?.[RECEIPT]?.[0];
      if (!receipt || typeof receipt.seed !== "number") return;
      const node = findNode(detail.display_node ?? detail.node);
      if (node && node.comfyClass === NODE_TYPE) showUsed(node, receipt.seed, receipt.seeds);
    });
  },
});
