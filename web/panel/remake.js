// @ts-check
// Seed Number panel: an image's re-make prompt (Seed Details' `remake_prompt`, an API prompt that
// makes that image alone) and what the panel's Re-make and Vary do with it. Pure module: no DOM, no
// ComfyUI imports. The panel does not keep re-make prompts (100,000 entries would hold 100,000
// prompts): an entry keeps only `remake`, one of the states below, and the prompt is read from
// /history/<prompt id> when a button is clicked.
import { MAX_SEED, randomSeed, SEED_SOURCE } from "../common.js";

/** @import { ApiPrompt, Entry, ImageRef, Json } from "./entries.js" */
/** Why a button cannot do what was asked (one of WHY). @typedef {{reason: string}} Refusal */

export const NOISE_SAMPLER = "SamplerCustomAdvanced";

/**
 * What an entry can do with its image's re-make prompt (`entry.remake`). null: no re-make buttons (an
 * entry from a Seed Source receipt, or a record without `remake_prompt`: saved by an older Seed Number).
 */
export const REMAKE = Object.freeze({
  VARY: "vary", // a re-make prompt whose noise comes from Seed Source's `noise` into SamplerCustomAdvanced
  REMAKE: "remake", // a re-make prompt; its noise is not a Seed Source's `noise` output: no variation
  NONE: "none", // remake_prompt null: the server could not make this image alone
});

/** Why an entry in each state cannot do what was asked (for toasts and the buttons' titles). */
export const WHY = Object.freeze({
  receipt:
    "This image has no re-make prompt: only images saved by Seed Details carry one (not images listed from " +
    "a Seed Source receipt, nor images saved before re-make prompts existed).",
  none: "The server could not make this image alone (e.g. a second Seed Source sweeping seeds); its debug log says why.",
  old: "This image was saved by a Seed Number version without re-make prompts.",
  gone: "This run is no longer in the server's history (deleted, or the server restarted).",
  changed: "The server's history no longer holds this image's details.",
  vary:
    "A variation needs the image's noise to come from Seed Source's noise output into SamplerCustomAdvanced " +
    "(a KSampler's seed carries no variation).",
});

/**
 * @param {unknown} value
 * @returns {value is Json}
 */
function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * @param {unknown} value
 * @param {string} id
 * @param {number} slot
 */
function isLinkTo(value, id, slot) {
  return Array.isArray(value) && value.length === 2 && String(value[0]) === String(id) && Number(value[1]) === slot;
}

/**
 * The Seed Source whose `noise` output (slot 1) feeds the image's SamplerCustomAdvanced in a re-make
 * prompt: the record's `seed_node` when it names one, the sampler its `sampler_node` when it names
 * one; null when the image's noise comes from elsewhere (a KSampler's seed, RandomNoise, a variant
 * sweep's noise).
 * @param {unknown} prompt  an API prompt {node id: {class_type, inputs}}
 * @param {Json} record  the image's Seed Details record (`seed_node`, `sampler_node`)
 * @returns {string|null}
 */
export function varySource(prompt, record = {}) {
  if (!isObject(prompt)) return null;
  const wanted = record.seed_node != null ? String(record.seed_node) : null;
  const samplers =
    record.sampler_node != null && prompt[String(record.sampler_node)]
      ? [String(record.sampler_node)]
      : Object.keys(prompt);
  for (const id of samplers) {
    /** @type {unknown} */
    const node = prompt[id];
    if (!isObject(node) || node.class_type !== NOISE_SAMPLER || !isObject(node.inputs)) continue;
    /** @type {unknown} */
    const noise = node.inputs.noise;
    if (!Array.isArray(noise) || noise.length !== 2) continue;
    const source = String(noise[0]);
    if (prompt[source]?.class_type !== SEED_SOURCE || !isLinkTo(noise, source, 1)) continue;
    if (wanted === null || wanted === source) return source;
  }
  return null;
}

/**
 * An entry's state from its Seed Details record (REMAKE.*, or null without `remake_prompt`), read
 * without keeping the prompt.
 * @param {Json} record
 * @returns {string|null}
 */
export function remakeState(record) {
  if (!("remake_prompt" in record)) return null;
  const prompt = record.remake_prompt;
  if (!isObject(prompt)) return REMAKE.NONE;
  return varySource(prompt, record) === null ? REMAKE.REMAKE : REMAKE.VARY;
}

/**
 * @param {Json | null | undefined} a
 * @param {ImageRef | null | undefined} b
 */
function sameImage(a, b) {
  if (!a || !b) return true; // nothing to compare
  return a.filename === b.filename && (a.subfolder ?? "") === (b.subfolder ?? "") && (a.type ?? "output") === (b.type ?? "output");
}

/**
 * The record of an entry among a /history item's Seed Details records (in the order the panel built
 * its entries: see entries.js detailsRecords); else {reason}.
 * @param {Json[] | null} records  null when the history item is gone
 * @param {Pick<Entry, "index" | "image" | "remake">} entry
 * @returns {{record: Json} | Refusal}
 */
export function recordOf(records, entry) {
  if (entry.remake == null) return { reason: WHY.receipt };
  if (!records) return { reason: WHY.gone };
  const record = records[entry.index];
  if (!isObject(record) || !sameImage(record.image, entry.image)) return { reason: WHY.changed };
  return { record };
}

/**
 * An entry's record and its re-make prompt (as recordOf finds the record); else {reason}.
 * @param {Json[] | null} records
 * @param {Pick<Entry, "index" | "image" | "remake">} entry
 * @returns {{record: Json, prompt: ApiPrompt} | Refusal}
 */
export function remakeOf(records, entry) {
  const found = recordOf(records, entry);
  if ("reason" in found) return found;
  const record = found.record;
  const state = remakeState(record);
  if (state === null) return { reason: WHY.old };
  if (state === REMAKE.NONE) return { reason: WHY.none };
  return { record, prompt: record.remake_prompt };
}

/** A random integer in 0 … 2^53−1 from the browser's CSPRNG. */
export function randomVariationSeed() {
  return randomSeed(MAX_SEED);
}

/**
 * A variation strength from the setting: 0.01 … 1 (default 0.25), at most 4 decimals.
 * @param {unknown} value
 */
export function clampStrength(value, fallback = 0.25) {
  const n = Number(value);
  if (value === null || value === "" || !Number.isFinite(n)) return fallback;
  return Math.round(Math.min(1, Math.max(0.01, n)) * 10000) / 10000;
}

/**
 * A copy of a re-make prompt with a new variation on the Seed Source that feeds the image's noise:
 * `variation_seed` and `variation_strength` set, everything else (its seed, `noise_source`, `fixed`
 * mode) as it was; else {reason}.
 * @param {ApiPrompt} prompt
 * @param {Json} record
 * @param {number} variationSeed  0 … 2^53−1
 * @param {number} strength  0.01 … 1
 * @returns {{prompt: ApiPrompt, node: string} | Refusal}
 */
export function withVariation(prompt, record, variationSeed, strength) {
  const node = varySource(prompt, record);
  if (node === null) return { reason: WHY.vary };
  if (!Number.isSafeInteger(variationSeed) || variationSeed < 0 || variationSeed > MAX_SEED) {
    throw new RangeError(`variation seed out of range: ${variationSeed}`);
  }
  const copy = structuredClone(prompt);
  const source = copy[node];
  source.inputs = { ...source.inputs, variation_seed: variationSeed, variation_strength: strength };
  return { prompt: copy, node };
}
