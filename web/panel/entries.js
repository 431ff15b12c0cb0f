// @ts-check
// Seed Number panel: turns one finished prompt's node outputs into panel entries (one per image).
// Pure module: no DOM, no ComfyUI imports; the same code serves live websocket events and /history.
// ComfyUI imports every .js under web/ as an extension module, so this file has no side effects.
import { remakeState } from "./remake.js";

/**
 * JSON from the server (a node's ui output, a Seed Details record, a /history item, an API prompt):
 * untrusted, so every field is checked before it is used.
 * @typedef {Record<string, any>} Json
 */
/** A seed as recorded: a number, or a string of digits for seeds beyond 2^53. @typedef {number | string} Seed */
/** An image file as ComfyUI's /view names it. @typedef {{filename: string, subfolder: string, type: string}} ImageRef */
/**
 * What the records say about one image; null where they say nothing.
 * @typedef {object} Fields
 * @property {Seed | null} seed
 * @property {string | null} mode
 * @property {string | null} positive
 * @property {string | null} negative
 * @property {string | null} label  the prompt variant's label
 * @property {string | null} speed  the render speed ("Turbo", …)
 * @property {number | null} steps
 * @property {number | null} cfg
 * @property {string | null} sampler
 * @property {string | null} scheduler
 * @property {number | null} denoise
 * @property {number | null} width
 * @property {number | null} height
 * @property {number | null} batchIndex
 * @property {string | null} model
 * @property {string | null} modelHash
 * @property {string | null} verdict  the reproducibility verdict
 * @property {string | null} note  the reproducibility note
 * @property {string | null} seedNode  the Seed Source's execution id
 * @property {ImageRef | null} image
 * @property {true | null} sweep  one of a seed sweep's images
 * @property {Seed[] | null} seeds  the sweep's seeds
 * @property {string | null} noiseSource
 * @property {Seed | null} variationSeed
 * @property {number | null} variationStrength
 * @property {string | null} remake  REMAKE.* (remake.js), or null without a re-make prompt
 */
/**
 * One image of a finished prompt, as the panel lists it: every field of Fields set (null when
 * unknown), with where it comes from and the list's own fields.
 * @typedef {object} EntryMeta
 * @property {string} promptId
 * @property {number | null} number  the queue number
 * @property {number} time  when the prompt finished (server ms; 0: unknown)
 * @property {number} index  the image's place among its prompt's images
 * @property {number} h  the card's measured height in the panel (0 until shown)
 * @property {string} key  unique in the list: prompt id, index and file
 * @property {string} search  the filter's index: seed and text, lower case
 * @typedef {EntryMeta & Fields} Entry
 */
/** What the queued prompt says (graphContext); `fixed`: the sampler's own literal inputs. @typedef {Partial<Fields> & {fixed?: Partial<Fields>}} GraphContext */
/** An API prompt: {node id: {class_type, inputs}}. @typedef {Record<string, Json>} ApiPrompt */

export const DETAILS = "seed_number_details";
export const RECEIPT = "seed_number_receipt";
export const SPEED = "seed_number_speed";
export const VARIANTS = "seed_number_variants";
export const CAPTIONS = "seed_number_captions";

export const TEXT_LIMIT = 20000; // longer strings are cut (+ "…"): the panel shows text, it is not an archive

/**
 * @param {unknown} value
 * @returns {string | null}
 */
function text(value) {
  if (value === undefined || value === null) return null;
  if (typeof value === "object") return null;
  const s = String(value);
  return s.length > TEXT_LIMIT ? s.slice(0, TEXT_LIMIT) + "…" : s;
}

/**
 * @param {unknown} value
 * @returns {number | null}
 */
function number(value) {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return null;
}

/**
 * A seed as given (a number, or a string of digits for seeds beyond 2^53), else null.
 * @param {unknown} value
 * @returns {Seed | null}
 */
function seedValue(value) {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === "string" && /^\d{1,20}$/.test(value)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value;
  }
  return null;
}

/**
 * @param {Json | null | undefined} value
 * @returns {ImageRef | null}
 */
function image(value) {
  if (!value || typeof value !== "object" || typeof value.filename !== "string" || !value.filename) return null;
  return {
    filename: value.filename,
    subfolder: typeof value.subfolder === "string" ? value.subfolder : "",
    type: typeof value.type === "string" && value.type ? value.type : "output",
  };
}

/**
 * Orders node ids the way people read them: "2" < "10", "5" < "5:3".
 * @param {string | number} a
 * @param {string | number} b
 */
export function compareNodeIds(a, b) {
  const pa = String(a).split(":");
  const pb = String(b).split(":");
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if (pa[i] === undefined) return -1;
    if (pb[i] === undefined) return 1;
    const na = Number(pa[i]);
    const nb = Number(pb[i]);
    if (Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
    if (pa[i] !== pb[i]) return pa[i] < pb[i] ? -1 : 1;
  }
  return 0;
}

/**
 * A prompt's outputs in node id order, the objects only.
 * @param {unknown} outputs  {node id: ui output}
 * @returns {[string, Json][]}
 */
function sortedOutputs(outputs) {
  if (!outputs || typeof outputs !== "object") return [];
  const all = /** @type {Json} */ (outputs);
  return Object.keys(all)
    .sort(compareNodeIds)
    .map((id) => /** @type {[string, Json]} */ ([id, all[id]]))
    .filter(([, out]) => out && typeof out === "object");
}

/**
 * @param {unknown} value
 * @returns {any[]} the array, else [] (its items are unchecked JSON)
 */
function list(value) {
  return Array.isArray(value) ? value : [];
}

/**
 * Appends the `items` that `keep` accepts to `into`, one by one: never `push(...items)`,
 * whose arguments go on the stack (an output with 150,000 images threw RangeError there).
 * @param {Json[]} into
 * @param {unknown[]} items
 * @param {(value: unknown) => boolean} keep
 */
function appendAll(into, items, keep = isRecord) {
  for (let i = 0; i < items.length; i++) if (keep(items[i])) into.push(/** @type {Json} */ (items[i]));
  return into;
}

/**
 * @param {unknown} value
 * @returns {value is Json}
 */
function isRecord(value) {
  return value !== null && typeof value === "object";
}

/**
 * The note a record carries: `reproducible` {verdict, reasons} or a `reproducibility_note` string.
 * @param {Json | null | undefined} record
 * @returns {{verdict: string | null, note: string | null}}
 */
function noteOf(record) {
  const r = record?.reproducible;
  if (r && typeof r === "object") {
    const verdict = text(r.verdict);
    const reasons = list(r.reasons).map(text).filter(Boolean);
    const parts = [verdict, reasons.join("; ")].filter(Boolean);
    if (parts.length) return { verdict, note: parts.join(": ") };
  }
  const note = text(record?.reproducibility_note) ?? text(record?.reproducibility);
  return note ? { verdict: null, note } : { verdict: null, note: null };
}

// -- the queued prompt (API format) ------------------------------------------------------------

/**
 * The source node id of a link input ([node id, slot]), else null.
 * @param {unknown} value
 * @returns {string | null}
 */
function linkSource(value) {
  return Array.isArray(value) && value.length === 2 && (typeof value[0] === "string" || typeof value[0] === "number")
    ? String(value[0])
    : null;
}

/**
 * Breadth-first over a node and what feeds it: the first non-null `visit(inputs)`, else null.
 * @template T
 * @param {ApiPrompt} graph
 * @param {string | null | undefined} startId
 * @param {(inputs: Json) => T | null | undefined} visit
 * @returns {T | null}
 */
function breadthFirst(graph, startId, visit, maxNodes = 64) {
  const seen = new Set();
  const queue = startId == null ? [] : [String(startId)];
  while (queue.length && seen.size < maxNodes) {
    const id = /** @type {string} */ (queue.shift());
    if (seen.has(id)) continue;
    seen.add(id);
    const inputs = graph[id]?.inputs;
    if (!inputs || typeof inputs !== "object") continue;
    const found = visit(inputs);
    if (found !== null && found !== undefined) return found;
    for (const value of Object.values(inputs)) {
      const source = linkSource(value);
      if (source !== null && !seen.has(source)) queue.push(source);
    }
  }
  return null;
}

/**
 * The first literal value of one of `names` on a node or what feeds it.
 * @param {ApiPrompt} graph
 * @param {string | null | undefined} startId
 * @param {string[]} names
 * @returns {unknown}
 */
function findLiteral(graph, startId, names, maxNodes = 64) {
  return breadthFirst(
    graph,
    startId,
    (inputs) => {
      for (const name of names) {
        const value = inputs[name];
        if (name in inputs && value !== null && typeof value !== "object") return value;
      }
      return null;
    },
    maxNodes,
  );
}

/**
 * The node that feeds the first linked input called `name`, on a node or what feeds it.
 * @param {ApiPrompt} graph
 * @param {string | null | undefined} startId
 * @param {string} name
 * @returns {string | null}
 */
function findLinkedInput(graph, startId, name, maxNodes = 64) {
  return breadthFirst(graph, startId, (inputs) => linkSource(inputs[name]), maxNodes);
}

/**
 * The sampler node classes, as the server names them (GET /seed_number/graph_rules: the Python side's
 * SAMPLER_CLASSES, the one definition). Empty until the panel has read them: no sampler is guessed.
 * @type {Set<string>}
 */
const samplerClasses = new Set();

/**
 * Sets the sampler classes the server named (the panel does it once, before reading /history).
 * @param {unknown} classes
 */
export function setSamplerClasses(classes) {
  samplerClasses.clear();
  if (!Array.isArray(classes)) return;
  for (const name of classes) if (typeof name === "string") samplerClasses.add(name);
}

/** @param {Json | undefined} node */
function isSampler(node) {
  return typeof node?.class_type === "string" && samplerClasses.has(node.class_type);
}

/**
 * What the queued prompt says about the images: prompt text, model, sampler settings and size, read
 * from the sampler that the Seed Source `seedNode` feeds (else the first sampler). Literal values
 * only: an input fed by another node (a Render Speed Preset, a variant sweep) is left to that node's
 * own record. Returns {} when the prompt is unknown (a live event before /history has it).
 * @param {ApiPrompt | null | undefined} graph
 * @param {unknown} seedNode
 * @returns {GraphContext}
 */
export function graphContext(graph, seedNode) {
  if (!graph || typeof graph !== "object") return {};
  const samplers = Object.keys(graph)
    .filter((id) => isSampler(graph[id]))
    .sort(compareNodeIds);
  if (!samplers.length) return {};
  const fed = samplers.find((id) => {
    const inputs = graph[id].inputs;
    /** @param {string} name */
    const fedBy = (name) => seedNode != null && linkSource(inputs[name]) === String(seedNode);
    return fedBy("seed") || fedBy("noise_seed") || fedBy("noise");
  });
  const sampler = fed ?? samplers[0];
  const positive = findLinkedInput(graph, sampler, "positive");
  const negative = findLinkedInput(graph, sampler, "negative");
  const inputs = graph[sampler].inputs;
  const latent = linkSource(inputs.latent_image);
  /** @param {string} name */
  const direct = (name) => (name in inputs && linkSource(inputs[name]) === null ? inputs[name] : null);
  // Literal inputs of the sampler itself are what it used: they win over a preset's record.
  const fixed = {
    steps: number(direct("steps")),
    cfg: number(direct("cfg")),
    sampler: text(direct("sampler_name")),
    scheduler: text(direct("scheduler")),
    denoise: number(direct("denoise")),
  };
  return {
    fixed,
    positive: text(findLiteral(graph, positive, ["text", "text_g", "prompt"])),
    negative: text(findLiteral(graph, negative, ["text", "text_g", "prompt"])),
    steps: number(findLiteral(graph, sampler, ["steps"])),
    cfg: number(findLiteral(graph, sampler, ["cfg"])),
    sampler: text(findLiteral(graph, sampler, ["sampler_name"])),
    scheduler: text(findLiteral(graph, sampler, ["scheduler"])),
    denoise: number(findLiteral(graph, sampler, ["denoise"])),
    width: number(findLiteral(graph, latent, ["width"])),
    height: number(findLiteral(graph, latent, ["height"])),
    model: text(findLiteral(graph, sampler, ["ckpt_name", "unet_name", "model_name"])),
  };
}

// -- entries -----------------------------------------------------------------------------------

/**
 * The first of `fixed[name]`, `fields[name]`, `context[name]` that is set, else null.
 * @template {keyof Fields} K
 * @param {K} name
 * @param {Partial<Fields>} fixed
 * @param {Partial<Fields>} fields
 * @param {Partial<Fields>} context
 * @returns {Fields[K] | null}
 */
function pick(name, fixed, fields, context) {
  const a = fixed[name];
  if (a !== undefined && a !== null) return a;
  const b = fields[name];
  if (b !== undefined && b !== null) return b;
  const c = context[name];
  return c !== undefined && c !== null ? c : null;
}

/**
 * @param {{promptId: string, number: number | null, time: number}} meta
 * @param {number} index
 * @param {Partial<Fields>} fields
 * @param {Partial<Fields>} context
 * @param {Partial<Fields>} fixed
 * @returns {Entry}
 */
function makeEntry(meta, index, fields, context, fixed = {}) {
  /** @type {<K extends keyof Fields>(name: K) => Fields[K] | null} */
  const at = (name) => pick(name, fixed, fields, context);
  // One object literal with every field: one shape for all entries, so reading a field of 100,000
  // of them is fast (fields added one by one turned them into slow dictionary objects).
  // `h`: the card's measured height in the panel (0 until shown; set by the list, see virtual.js).
  /** @type {Entry} */
  const entry = {
    promptId: meta.promptId,
    number: meta.number,
    time: meta.time,
    index,
    h: 0,
    seed: at("seed"),
    mode: at("mode"),
    positive: at("positive"),
    negative: at("negative"),
    label: at("label"),
    speed: at("speed"),
    steps: at("steps"),
    cfg: at("cfg"),
    sampler: at("sampler"),
    scheduler: at("scheduler"),
    denoise: at("denoise"),
    width: at("width"),
    height: at("height"),
    batchIndex: at("batchIndex"),
    model: at("model"),
    modelHash: at("modelHash"),
    verdict: at("verdict"),
    note: at("note"),
    seedNode: at("seedNode"),
    image: at("image"),
    sweep: at("sweep"),
    seeds: at("seeds"),
    noiseSource: at("noiseSource"),
    variationSeed: at("variationSeed"),
    variationStrength: at("variationStrength"),
    remake: at("remake"), // REMAKE.* (remake.js) when the record has remake_prompt, else null; the prompt is not kept
    key: "",
    search: "",
  };
  const img = entry.image;
  entry.key = `${meta.promptId}|${index}|${img ? `${img.type}/${img.subfolder}/${img.filename}` : "-"}`;
  // The filter's index: seed and text, lower case, built once here.
  entry.search = [
    entry.seed, entry.label, entry.speed, entry.positive, entry.negative, entry.model, entry.sampler,
    entry.scheduler, entry.note, img?.filename, img?.subfolder,
  ]
    .filter((v) => v !== null && v !== undefined)
    .join("\n")
    .toLowerCase();
  return entry;
}

/**
 * Entries from Seed Details records (record k: image k).
 * @param {{promptId: string, number: number | null, time: number}} meta
 * @param {unknown[]} details
 * @param {GraphContext} context
 * @param {number} limit
 */
function fromDetails(meta, details, context, limit) {
  /** @type {Entry[]} */
  const entries = [];
  for (let index = 0; index < details.length && entries.length < limit; index++) {
    const record = details[index];
    if (!isRecord(record) || Array.isArray(record)) continue; // says nothing: no entry (index k stays image k's)
    const { verdict, note } = noteOf(record);
    entries.push(
      makeEntry(
        meta,
        index,
        {
          seed: seedValue(record.seed),
          mode: text(record.mode),
          positive: text(record.positive),
          negative: text(record.negative),
          label: text(record.label),
          speed: text(record.speed),
          steps: number(record.steps),
          cfg: number(record.cfg),
          sampler: text(record.sampler),
          scheduler: text(record.scheduler),
          denoise: number(record.denoise),
          width: number(record.width),
          height: number(record.height),
          batchIndex: number(record.batch_index),
          model: text(record.model),
          modelHash: text(record.model_hash),
          verdict,
          note,
          seedNode: text(record.seed_node),
          noiseSource: text(record.noise_source),
          variationSeed: seedValue(record.variation_seed),
          variationStrength: number(record.variation_strength),
          remake: remakeState(record),
          image: image(record.image),
        },
        context,
      ),
    );
  }
  return entries;
}

/**
 * Record k of a per-run list: a list of N records for N·b images (N runs of a ComfyUI list, b images
 * each, in order) gives image k the record k // b; any other length gives nothing.
 * @template T
 * @param {T[]} records
 * @param {number} k
 * @param {number} count
 * @returns {T | null}
 */
function perImage(records, k, count) {
  if (!records.length || count % records.length !== 0) return null;
  return records[Math.floor(k / (count / records.length))];
}

/**
 * Entries from Seed Source receipts, Render Speed Preset and variant records, and the images.
 * @param {{promptId: string, number: number | null, time: number}} meta
 * @param {[string, Json][]} outputs
 * @param {ApiPrompt | null | undefined} graph
 * @param {number} limit
 */
function fromReceipts(meta, outputs, graph, limit) {
  /** @type {Json[]} */
  const receipts = [];
  /** @type {Json[]} */
  const speeds = [];
  /** @type {Json[]} */
  const variants = [];
  const images = [];
  for (const [, out] of outputs) {
    appendAll(receipts, list(out[RECEIPT]));
    appendAll(speeds, list(out[SPEED]));
    appendAll(variants, list(out[VARIANTS]));
    if (CAPTIONS in out) continue; // a contact sheet: its cells are the other images again
    for (const value of list(out.images)) {
      const img = image(value);
      if (img) images.push(img);
    }
  }
  const receipt = receipts[0] ?? null;
  if (!receipt && !images.length) return [];
  if (!receipt && !speeds.length && !variants.length) {
    // Images from a prompt without any of our nodes: nothing about a seed to show.
    return [];
  }
  const seeds = receipt ? list(receipt.seeds).map(seedValue).filter((s) => s !== null) : [];
  const context = graphContext(graph, receipt?.node);
  const count = images.length || seeds.length || 1;
  /** @type {Entry[]} */
  const entries = [];
  for (let k = 0; k < Math.min(count, limit); k++) {
    const speed = perImage(speeds, k, count);
    const variant = perImage(variants, k, count);
    const seed = (seeds.length > 1 ? perImage(seeds, k, count) : null) ?? seedValue(receipt?.seed);
    const { verdict, note } = noteOf(speed ?? {});
    entries.push(
      makeEntry(
        meta,
        k,
        {
          seed,
          mode: text(receipt?.mode),
          seeds: seeds.length > 1 ? seeds : null,
          sweep: seeds.length > 1 ? true : null,
          seedNode: text(receipt?.node),
          noiseSource: text(receipt?.noise_source),
          variationSeed: seedValue(receipt?.variation_seed),
          variationStrength: number(receipt?.variation_strength),
          speed: text(speed?.speed),
          steps: number(speed?.steps),
          cfg: number(speed?.cfg),
          sampler: text(speed?.sampler),
          scheduler: text(speed?.scheduler),
          denoise: number(speed?.denoise),
          label: text(variant?.label),
          positive: text(variant?.prompt),
          verdict,
          note,
          image: images[k] ?? null,
        },
        context,
        context.fixed,
      ),
    );
  }
  return entries;
}

/**
 * @param {[string, Json][]} nodes
 * @returns {Json[]}
 */
function recordsOf(nodes) {
  /** @type {Json[]} */
  const details = [];
  for (const [, out] of nodes) appendAll(details, list(out[DETAILS]), () => true);
  return details;
}

/**
 * A prompt's Seed Details records, in image order: record k is entry k's (`entry.index`) of an entry
 * built from them.
 * @param {unknown} outputs  {node_id: ui output} as in /history
 * @returns {Json[]}
 */
export function detailsRecords(outputs) {
  return recordsOf(sortedOutputs(outputs));
}

/**
 * The entries of one finished prompt, in image order.
 * @param {string} promptId
 * @param {unknown} outputs  {node_id: ui output} as in /history and the `executed` events
 * @param {{number?: unknown, time?: unknown, graph?: ApiPrompt | null, limit?: number}} meta  queue
 *   number, finish time (ms), the queued API prompt when known, and how many entries to build at most
 *   (the first ones in image order: a list keeps only its newest entries, and one prompt's entries
 *   share their time, so its later images would be dropped anyway)
 */
export function buildEntries(promptId, outputs, meta = {}) {
  const info = { promptId: String(promptId), number: number(meta.number), time: number(meta.time) ?? 0 };
  const limit = meta.limit && meta.limit > 0 ? meta.limit : Infinity;
  const nodes = sortedOutputs(outputs);
  const details = recordsOf(nodes);
  if (details.length) return fromDetails(info, details, graphContext(meta.graph, null), limit);
  return fromReceipts(info, nodes, meta.graph, limit);
}

const FINISHED = ["execution_success", "execution_error", "execution_interrupted"];

/**
 * When a /history item finished (server ms), else when it started, else 0.
 * @param {Json | null | undefined} item
 * @returns {number}
 */
export function historyTime(item) {
  const messages = list(item?.status?.messages);
  for (const names of [FINISHED, ["execution_start"]]) {
    for (const message of messages) {
      if (Array.isArray(message) && names.includes(message[0]) && number(message[1]?.timestamp) !== null) {
        return /** @type {number} */ (number(message[1].timestamp));
      }
    }
  }
  return 0;
}

/**
 * Entries of one `/history` item ({prompt: [queue number, prompt id, prompt, extra data, outputs to
 * run], outputs, status}).
 * @param {string} promptId
 * @param {Json | null | undefined} item
 * @param {{limit?: number}} options
 * @returns {Entry[]}
 */
export function historyItemEntries(promptId, item, { limit } = {}) {
  if (!item || typeof item !== "object") return [];
  const prompt = Array.isArray(item.prompt) ? item.prompt : [];
  return buildEntries(promptId, item.outputs, { number: prompt[0], time: historyTime(item), graph: prompt[2], limit });
}

/**
 * Entries of a whole `/history` answer ({prompt_id: item}), newest first. An item that cannot be
 * read costs only itself: it is left out, counted in `skipped` (and reported to `onSkip`).
 * @param {Json | null | undefined} history
 * @param {{limit?: number, onSkip?: (promptId: string, error: unknown) => void}} options  `limit`:
 *   entries built per item at most
 * @returns {Entry[] & {skipped: number}}
 */
export function historyToEntries(history, { limit, onSkip } = {}) {
  /** @type {Entry[] & {skipped: number}} */
  const entries = Object.assign([], { skipped: 0 });
  if (!history || typeof history !== "object") return entries;
  for (const promptId of Object.keys(history)) {
    let built;
    try {
      built = historyItemEntries(promptId, history[promptId], { limit });
    } catch (error) {
      entries.skipped++;
      onSkip?.(promptId, error);
      continue;
    }
    for (let i = 0; i < built.length; i++) entries.push(built[i]);
  }
  return sortEntries(entries);
}

/**
 * Newest first: finish time, then queue number, then image order.
 * @param {Entry} a
 * @param {Entry} b
 */
export function compareEntries(a, b) {
  return (
    (b.time ?? 0) - (a.time ?? 0) ||
    (b.number ?? -1) - (a.number ?? -1) ||
    (a.promptId < b.promptId ? -1 : a.promptId > b.promptId ? 1 : 0) ||
    a.index - b.index
  );
}

/**
 * Sorts `entries` in place, newest first; returns them.
 * @template {Entry[]} T
 * @param {T} entries
 * @returns {T}
 */
export function sortEntries(entries) {
  return entries.sort(compareEntries);
}
