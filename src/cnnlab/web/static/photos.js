"use strict";
// Filters on photos: a classic kernel on each colour channel, and the learned filters.

(() => {
  const $ = id => document.getElementById(id);

  function figure(src, caption) {
    const fig = document.createElement("figure");
    const img = new Image();
    img.src = src;
    img.alt = caption;
    const cap = document.createElement("figcaption");
    cap.textContent = caption;
    fig.append(img, cap);
    return fig;
  }

  async function run() {
    const form = new FormData();
    const file = $("photo-file").files[0];
    if (file) form.append("photo", file);
    else if ($("photo-sample").value) form.append("sample", $("photo-sample").value);
    else return;
    form.append("kernel", $("photo-kernel").value);
    const model = $("model").value;
    if (model) form.append("model", model);
    try {
      const result = await cnn.api("/api/filter", form);
      cnn.showError("photo-error", null);
      show(result);
    } catch (error) {
      cnn.showError("photo-error", error);
    }
  }

  function show(result) {
    const k = result.kernel;
    $("kernel-text").replaceChildren(cnn.table(k.values, k.name, null, 3), `${k.description}`);
    const out = $("photo-results");
    out.replaceChildren(figure(result.original, "photo"), figure(result.filtered, `${k.name}, all channels`));
    const channels = document.createElement("div");
    result.channels.forEach(ch => channels.append(figure(ch.input, ch.name), figure(ch.output, `${ch.name} * ${k.name}`)));
    out.appendChild(channels);
    const learned = $("learned");
    learned.replaceChildren();
    if (!result.learned || !result.learned.filters.length) {
      learned.textContent = "The model has no convolution layer.";
      return;
    }
    const note = document.createElement("p");
    note.textContent = `${result.learned.model}, layer ${result.learned.layer} (red positive, blue negative); below, the grey photo through the first ones.`;
    const kernels = document.createElement("div");
    result.learned.filters.forEach(f => {
      const c = document.createElement("canvas");
      cnn.paintSigned(c, f);
      kernels.appendChild(c);
    });
    const applied = document.createElement("div");
    result.learned.applied.forEach((src, i) => applied.appendChild(figure(src, `filter ${i}`)));
    learned.append(note, kernels, applied);
  }

  async function loadKernels() {
    const kernels = await cnn.api("/api/kernels");
    $("photo-kernel").replaceChildren(...kernels.map(k => new Option(k.name, k.name, false, k.name === "sobel-x")));
  }

  $("photo-file").addEventListener("change", () => { $("photo-sample").value = ""; run(); });
  $("photo-sample").addEventListener("change", () => { $("photo-file").value = ""; run(); });
  $("photo-kernel").addEventListener("change", run);
  loadKernels().catch(error => cnn.showError("photo-error", error));
})();
