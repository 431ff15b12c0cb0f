// Names for the ComfyUI frontend's types that web/ uses in JSDoc (`@import { LGraphNode } from
// "../typings/comfy"`). The published package (@comfyorg/comfyui-frontend-types) exports ComfyApp and
// ComfyExtension but not the LiteGraph classes: they are reached through what it exports.
import type { ComfyApp, ComfyExtension } from "@comfyorg/comfyui-frontend-types";

export type LGraph = ComfyApp["graph"];
export type LGraphCanvas = ComfyApp["canvas"];
export type LGraphNode = Parameters<NonNullable<ComfyExtension["nodeCreated"]>>[0];
export type IBaseWidget = NonNullable<LGraphNode["widgets"]>[number];
