// What every forcemlp widget's front-end shares underneath the kit (ui.js: controls, layout,
// legend, status; plot.js: themed canvases, axes, markers): syncing a trait back to Python,
// DOM elements, canvases that stay crisp at any devicePixelRatio, following a column's width,
// one redraw per frame, and a guard that shows a one-line error where the widget should be.

/** Set a trait here and, in a live kernel, in Python too (a no-op sync on a static page). */
export function sync(model, name, value) {
  model.set(name, value);
  model.save_changes();
}

/** A DOM element with attributes (`style` may be an object) and children (nodes or text). */
/** A table Python sent as ordered [name, entry] pairs (base.as_pairs), as an object whose keys
 * keep that order: notebook files sort JSON objects' keys, which would reorder a menu. */
export function table(model, name) {
  return Object.fromEntries(model.get(name));
}

export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "style" && typeof value === "object") Object.assign(node.style, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

/**
 * A canvas of the given CSS size whose pixels match the screen's: crisp on any display.
 * `resize(width, height)` changes both (and clears it).
 */
export function crispCanvas(width, height, label) {
  const canvas = element("canvas", { role: "img", "aria-label": label });
  const context = canvas.getContext("2d");
  function resize(newWidth, newHeight) {
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(newWidth * ratio);
    canvas.height = Math.round(newHeight * ratio);
    Object.assign(canvas.style, { width: `${newWidth}px`, height: `${newHeight}px` });
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    canvas.logicalSize = { width: newWidth, height: newHeight };
  }
  resize(width, height);
  return { canvas, context, resize };
}

/**
 * Calls `layout(width)` with the element's width now and whenever it changes (a narrow
 * book column, a phone, a resized notebook), so panels can be drawn at the size they show.
 */
export function followWidth(node, layout) {
  let last = null;
  const observer = new ResizeObserver(() => {
    const width = node.clientWidth;
    if (width > 0 && width !== last) {
      last = width;
      layout(width);
    }
  });
  observer.observe(node);
  return () => observer.disconnect();
}

/** The canvas point (CSS pixels of its logical size) under a mouse event. */
export function canvasPoint(canvas, event) {
  const box = canvas.getBoundingClientRect();
  return [
    (event.clientX - box.left) * canvas.logicalSize.width / box.width,
    (event.clientY - box.top) * canvas.logicalSize.height / box.height,
  ];
}

/**
 * Wraps a widget's render so that an error shows as one line where the widget should be
 * (and in the console), never as an empty space.
 */
export function guarded(render) {
  return (context) => {
    try {
      return render(context);
    } catch (error) {
      console.error(error);
      context.el.replaceChildren(element("p", { class: "forcemlp-widget-error" },
        `This widget failed to start: ${error.message}`));
      return undefined;
    }
  };
}

/** Runs `draw` at most once per animation frame however often `request` is called. */
export function frameScheduler(draw) {
  let pending = false;
  return function request() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      draw();
    });
  };
}
