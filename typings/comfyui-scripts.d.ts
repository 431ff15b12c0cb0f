// ComfyUI's own modules as the browser sees them from an extension (/extensions/seed-number/*.js imports
// ../../scripts/app.js): typed with the frontend's published types (@comfyorg/comfyui-frontend-types).
declare module "*/scripts/app.js" {
  export const app: import("@comfyorg/comfyui-frontend-types").ComfyApp;
}
declare module "*/scripts/api.js" {
  export const api: import("@comfyorg/comfyui-frontend-types").ComfyApi;
}
