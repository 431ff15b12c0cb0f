// @ts-check
// Seed Number: what the editor extensions (seed_source.js, panel.js) and the panel's modules share:
// node type ids, widget get/set, node lookup, toasts, the clipboard, random seeds.
// Side-effect free: only exports (ComfyUI imports every .js under web/ as an extension module). It
// imports none of ComfyUI's modules: what needs the app gets it as an argument, so Node can import
// this file (and the panel's pure modules that use it) as it is.

/** @import { ComfyApp, ExtensionManager } from "@comfyorg/comfyui-frontend-types" */
/** @import { LGraph, LGraphCanvas, LGraphNode, IBaseWidget } from "../typings/comfy" */

/** The Seed Source node's type id (its class_type in an API prompt, `comfyClass` in the editor). */
export const SEED_SOURCE = "SeedSource|SeedNumber";
/** The Render Speed Preset node's type id. */
export const SPEED_PRESET = "RenderSpeedPreset|SeedNumber";

/** The largest seed the editor holds exactly: 2^53 − 1. */
export const MAX_SEED = 2 ** 53 - 1;

/** How long a toast shows (ms). */
export const TOAST_LIFE_MS = 3500;

/** A random integer in 0 … max from the browser's CSPRNG (max ≤ 2^53 − 1), without modulo bias. */
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

// -- widgets and nodes --------------------------------------------------------------------------

/**
 * A node's widget by name, if it has one.
 * @param {LGraphNode | null | undefined} node
 * @param {string} name
 * @returns {IBaseWidget | undefined}
 */
export function widget(node, name) {
  return node?.widgets?.find((w) => w.name === name);
}

/**
 * Sets a widget's value as a user's edit does (its callback runs, so the node reacts as to an edit).
 * @param {LGraphNode} node
 * @param {string} name
 * @param {unknown} value
 * @param {LGraphCanvas | undefined} canvas  the editor's canvas (`app.canvas`), passed to the callback
 * @returns {boolean} whether the node has that widget
 */
export function setWidget(node, name, value, canvas) {
  const w = widget(node, name);
  if (!w) return false;
  w.value = /** @type {IBaseWidget["value"]} */ (value);
  w.callback?.(value, canvas, node);
  return true;
}

/**
 * The graph inside a subgraph node, else undefined.
 * @param {LGraphNode} node
 * @returns {LGraph | undefined}
 */
function innerGraph(node) {
  return "subgraph" in node ? /** @type {LGraph | undefined} */ (node.subgraph) : undefined;
}

/**
 * The node an execution id ("5", or "5:3" inside a subgraph) names in `graph` (`app.graph`), else null.
 * @param {LGraph | null | undefined} graph
 * @param {string | number} id
 * @returns {LGraphNode | null}
 */
export function nodeById(graph, id) {
  /** @type {LGraphNode | null} */
  let node = null;
  for (const part of String(id).split(":")) {
    node = graph?.getNodeById?.(part) ?? graph?.getNodeById?.(Number(part)) ?? null;
    if (!node) return null;
    graph = innerGraph(node);
  }
  return node;
}

/**
 * Every node of `graph` (`app.graph`), subgraphs included, with its execution id ("5", "5:3").
 * @param {LGraph | null | undefined} graph
 * @returns {{id: string, node: LGraphNode}[]}
 */
export function allNodes(graph, prefix = "", seen = new Set()) {
  /** @type {{id: string, node: LGraphNode}[]} */
  const found = [];
  for (const node of graph?.nodes ?? graph?._nodes ?? []) {
    const id = prefix + String(node.id);
    found.push({ id, node });
    const inner = innerGraph(node);
    if (inner && !seen.has(inner)) {
      seen.add(inner);
      for (const deeper of allNodes(inner, id + ":", seen)) found.push(deeper);
    }
  }
  return found;
}

/**
 * The nodes of one type id (SEED_SOURCE …) in `graph` and its subgraphs.
 * @param {LGraph | null | undefined} graph
 * @param {string} type
 */
export function nodesOfType(graph, type) {
  return allNodes(graph).filter(({ node }) => (node.comfyClass ?? node.type) === type);
}

// -- toasts and the clipboard ------------------------------------------------------------------------

/** @typedef {"success" | "info" | "warn" | "error"} Severity */

/**
 * Shows a toast in the editor (nothing where the frontend has no toasts). `detail` is shown as text.
 * @param {ComfyApp} app
 * @param {Severity} severity
 * @param {string} summary
 * @param {string} [detail]
 */
export function toast(app, severity, summary, detail) {
  /** @type {Partial<ExtensionManager> | undefined} */
  const manager = app.extensionManager;
  manager?.toast?.add?.({ severity, summary, detail, life: TOAST_LIFE_MS });
}

/**
 * Puts `text` on the clipboard; a toast says what was copied (its start), or that the browser refused
 * (no clipboard API outside a secure context, or permission denied).
 * @param {ComfyApp} app
 * @param {string} text
 * @param {string} summary  the toast's title when copied ("Seed copied")
 * @returns {Promise<boolean>} whether it was copied
 */
export async function copyText(app, text, summary) {
  try {
    await navigator.clipboard.writeText(text);
    toast(app, "info", summary, text.length > 120 ? `${text.slice(0, 120)}…` : text);
    return true;
  } catch {
    toast(app, "warn", "Could not copy", "The browser refused clipboard access.");
    return false;
  }
}
