// ipywidgets' HTML manager typesets widget labels through MathJax 2's `MathJax.Hub.Queue`;
// this book serves MathJax 3, which has no Hub, so every widget view threw and stayed blank.
// Loaded (deferred) right after MathJax, before the widget manager renders anything.
(function () {
  const mathjax = window.MathJax;
  if (mathjax === undefined || mathjax.Hub !== undefined) return;
  mathjax.Hub = {
    Queue(...commands) {
      for (const command of commands) {
        const element = Array.isArray(command) ? command[2] : undefined;
        if (element === undefined) continue;
        const ready = mathjax.startup && mathjax.startup.promise ? mathjax.startup.promise : Promise.resolve();
        ready.then(() => mathjax.typesetPromise && mathjax.typesetPromise([element])).catch(() => {});
      }
    },
  };
})();
