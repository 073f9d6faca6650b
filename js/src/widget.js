// ModelManager front end: the anywidget entry point. The view is assembled in view.js from
// parts named for their job (see docs/architecture.md, "Frontend").
import { createView } from "./view.js";

export { createView } from "./view.js";
export { WINDOW_MIN } from "./rowlist.js";

/**
 * anywidget entry point.
 * @param {{model: import("./view.js").Model, el: HTMLElement}} ctx
 */
function render({ model, el }) {
  return createView(model, el);
}

export default { render };
