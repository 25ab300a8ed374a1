"use strict";
// Watch it learn: start a run, read its Server-Sent Events, draw the curves and filters.

(() => {
  const $ = id => document.getElementById(id);
  let source = null, points = [], epochs = [], stepsPerEpoch = 1, totalSteps = 1;

  function drawCurves() {
    const canvas = $("curve");
    const ctx = canvas.getContext("2d");
    const W = canvas.width, H = canvas.height, M = 36;
    ctx.clearRect(0, 0, W, H);
    ctx.strokeStyle = "#999";
    ctx.strokeRect(M, 10, W - M - 10, H - M - 10);
    ctx.fillStyle = "#333";
    ctx.font = "12px sans-serif";
    ctx.fillText("step", W / 2, H - 8);
    const maxLoss = Math.max(1e-9, ...points.map(p => p.loss));
    const x = s => M + (W - M - 10) * s / totalSteps;
    const y = v => 10 + (H - M - 20) * (1 - v);
    const line = (values, colour) => {
      ctx.strokeStyle = colour;
      ctx.beginPath();
      values.forEach(([s, v], k) => (k ? ctx.lineTo(x(s), y(v)) : ctx.moveTo(x(s), y(v))));
      ctx.stroke();
    };
    line(points.map(p => [p.step, p.loss / maxLoss]), "#d9534f");
    line(points.map(p => [p.step, p.accuracy]), "#0275d8");
    ctx.fillStyle = "#0b7a3a";
    epochs.forEach(e => { if (isFinite(e.val_accuracy)) ctx.fillRect(x(e.step) - 3, y(e.val_accuracy) - 3, 6, 6); });
    ctx.fillStyle = "#d9534f";
    ctx.fillText(`loss (max ${maxLoss.toFixed(2)})`, M + 6, 24);
    ctx.fillStyle = "#0275d8";
    ctx.fillText("accuracy (0..1)", M + 6, 40);
    ctx.fillStyle = "#0b7a3a";
    ctx.fillText("test accuracy", M + 6, 56);
    canvas.dataset.points = points.length;
  }

  function drawFilters(filters) {
    $("learn-filters").replaceChildren(...filters.map(f => {
      const c = document.createElement("canvas");
      cnn.paintSigned(c, f);
      return c;
    }));
  }

  function onEvent(message) {
    const event = JSON.parse(message.data);
    if (event.type === "start") {
      stepsPerEpoch = event.steps_per_epoch;
      totalSteps = stepsPerEpoch * event.epochs;
      drawFilters(event.filters);
    } else if (event.type === "progress") {
      points.push(event);
      drawFilters(event.filters);
      const last = points[points.length - 1];
      $("learn-status").textContent = `Training: epoch ${event.epoch + 1}, step ${event.step} of ${totalSteps}, ` +
        `loss ${last.loss.toFixed(3)}, accuracy ${last.accuracy.toFixed(3)}`;
    } else if (event.type === "epoch") {
      epochs.push(event);
    } else if (event.type === "error") {
      cnn.showError("learn-error", event.message);
    } else if (event.type === "done") {
      source.close();
      source = null;
      const test = epochs.length ? `, test accuracy ${epochs[epochs.length - 1].val_accuracy.toFixed(3)}` : "";
      $("learn-status").textContent = `Run ${event.state} after ${event.seconds} s${test}.`;
      $("learn-status").dataset.state = event.state;
      $("learn-start").disabled = false;
      $("learn-stop").disabled = true;
    }
    drawCurves();
  }

  $("learn-start").addEventListener("click", async () => {
    try {
      await cnn.api("/api/train", {
        dataset: $("learn-dataset").value,
        epochs: Number($("learn-epochs").value),
        samples: Number($("learn-samples").value),
      });
    } catch (error) {
      cnn.showError("learn-error", error);
      return;
    }
    cnn.showError("learn-error", null);
    points = [];
    epochs = [];
    $("learn-status").textContent = "Loading the data...";
    delete $("learn-status").dataset.state;
    $("learn-start").disabled = true;
    $("learn-stop").disabled = false;
    source = new EventSource("/api/train/events");
    source.onmessage = onEvent;
  });

  $("learn-stop").addEventListener("click", async () => {
    try {
      await cnn.api("/api/train/stop", {});
      $("learn-status").textContent += " Stopping...";
    } catch (error) {
      cnn.showError("learn-error", error);
    }
  });
  drawCurves();
})();
