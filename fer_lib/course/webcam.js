// Front end of fer_lib.course.BrowserCamera (an anywidget ES module).
// The page owns the camera: it grabs frames with getUserMedia, sends one downscaled JPEG at a
// time to the kernel, and draws the boxes, emotions and bars the kernel sends back.

const REPLY_TIMEOUT_MS = 2000; // a frame with no answer by then is given up, and the next one sent

function explain(error, say) {
  const name = error && error.name;
  if (name === "NotAllowedError" || name === "SecurityError") {
    return say("Camera refused: allow this page to use the camera (the camera icon in the address bar), then press Start again.");
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") {
    return say("No camera found in this browser: connect one, or use LiveView with a video file on the kernel's machine.");
  }
  if (name === "NotReadableError") {
    return say("The camera is busy: close other programs or tabs that use it, then press Start again.");
  }
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return say("This page cannot use a camera: browsers allow it only over https or on localhost.");
  }
  return say("The camera could not be opened ({name}: {message}).", { name: name || "error", message: error && error.message });
}

function element(tag, className, parent) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (parent) parent.appendChild(node);
  return node;
}

function render({ model, el }) {
  const root = element("div", "fer-webcam", el);
  root.style.cssText = "font-family: sans-serif; font-size: 13px; display: flex; gap: 12px; align-items: flex-start; flex-wrap: wrap;";
  const stage = element("div", "fer-webcam-stage", root);
  stage.style.cssText = "position: relative; background: #222; min-width: 320px; min-height: 240px;";
  const video = element("video", "fer-webcam-video", stage);
  video.muted = true;
  video.playsInline = true;
  video.style.cssText = "display: block; max-width: 640px; width: 100%;";
  const overlay = element("canvas", "fer-webcam-overlay", stage);
  overlay.style.cssText = "position: absolute; left: 0; top: 0; pointer-events: none;";

  const side = element("div", "fer-webcam-side", root);
  side.style.cssText = "min-width: 220px;";
  const texts = model.get("texts") || {};
  // The page's words come from the kernel in the notebook's language (fer_lib.language), numbers in its format.
  const say = (text, values = {}) => (texts[text] || text).replace(/\{(\w+)\}/g, (_, key) => String(values[key]));
  const number = (value, digits) => value.toLocaleString(model.get("locale"), { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const buttons = element("div", "", side);
  const start = element("button", "fer-webcam-start", buttons);
  start.textContent = say("Start");
  const stop = element("button", "fer-webcam-stop", buttons);
  stop.textContent = say("Stop");
  stop.disabled = true;
  const status = element("div", "fer-webcam-status", side);
  status.style.cssText = "margin: 6px 0; min-height: 2.6em;";
  status.textContent = say("Press Start: the browser will ask for the camera.");

  const bars = element("div", "fer-webcam-bars", side);
  const emotions = model.get("emotions");
  const colors = model.get("colors");

  // Capture mode: Record saves the chosen emotion's next faces on the kernel's side (my_faces/<emotion>/).
  if (model.get("capture")) {
    const row = element("div", "fer-webcam-capture", side);
    row.style.cssText = "margin: 8px 0; display: flex; gap: 6px; align-items: center; flex-wrap: wrap;";
    const choice = element("select", "fer-webcam-emotion", row);
    emotions.forEach((name, index) => {
      const option = element("option", "", choice);
      option.value = String(index);
      option.textContent = name;
    });
    choice.value = "3";
    const count = element("input", "fer-webcam-count", row);
    count.type = "number";
    count.min = "1";
    count.value = "30";
    count.style.cssText = "width: 4em;";
    element("span", "", row).textContent = say("faces");
    const record = element("button", "fer-webcam-record", row);
    record.textContent = say("Record");
    record.addEventListener("click", () => {
      model.send({ type: "record", emotion: Number(choice.value), count: Math.max(1, Number(count.value) || 30) });
    });
    const saved = element("div", "fer-webcam-saved", side);
    const showSaved = () => {
      saved.textContent = model.get("capture_status");
    };
    showSaved();
    model.on("change:capture_status", showSaved);
  }
  const fills = emotions.map((name, index) => {
    const row = element("div", "fer-webcam-bar", bars);
    row.style.cssText = "display: flex; align-items: center; gap: 6px; margin: 2px 0;";
    const label = element("span", "", row);
    label.textContent = name;
    label.style.cssText = "width: 64px;";
    const track = element("span", "", row);
    track.style.cssText = "flex: 1; height: 12px; background: #eee; position: relative;";
    const fill = element("span", "fer-webcam-fill", track);
    fill.dataset.emotion = name;
    fill.style.cssText = `position: absolute; left: 0; top: 0; bottom: 0; width: 0%; background: ${colors[index]};`;
    return fill;
  });

  const grab = document.createElement("canvas");
  let stream = null;
  let running = false;
  let inFlight = null; // {id, sentAt, width, height}
  let nextId = 1;
  let roundTrips = [];
  let timer = null;

  function setStatus(text, state) {
    status.textContent = text;
    model.set("status", state || text);
    model.save_changes();
  }

  function drawFaces(faces, sentWidth) {
    // What the overlay shows, also as attributes a test (or a screen reader's script) can read.
    root.dataset.faces = String(faces.length);
    root.dataset.emotions = faces.map((face) => face.emotion).join(",");
    const shownWidth = video.clientWidth || video.videoWidth;
    const shownHeight = video.clientHeight || video.videoHeight;
    overlay.width = shownWidth;
    overlay.height = shownHeight;
    const context = overlay.getContext("2d");
    context.clearRect(0, 0, shownWidth, shownHeight);
    const scale = shownWidth / sentWidth;
    context.lineWidth = 2;
    context.font = "bold 15px sans-serif";
    for (const face of faces) {
      const [x, y, w, h] = face.box.map((value) => value * scale);
      // The kernel sends the label; the page shows its name in the notebook's language.
      const label = face.label;
      const color = colors[label] || "#fff";
      context.strokeStyle = color;
      context.strokeRect(x, y, w, h);
      const text = `${emotions[label] || face.emotion} ${Math.round(100 * Math.max(...face.probabilities))}%`;
      const textWidth = context.measureText(text).width;
      context.fillStyle = color;
      context.fillRect(x, Math.max(0, y - 20), textWidth + 8, 20);
      context.fillStyle = "#000";
      context.fillText(text, x + 4, Math.max(15, y - 5));
    }
    const largest = faces.reduce((best, face) => (!best || face.box[2] * face.box[3] > best.box[2] * best.box[3] ? face : best), null);
    fills.forEach((fill, index) => {
      fill.style.width = largest ? `${(100 * largest.probabilities[index]).toFixed(1)}%` : "0%";
    });
  }

  function sendFrame() {
    timer = null;
    if (!running) return;
    if (inFlight && performance.now() - inFlight.sentAt < REPLY_TIMEOUT_MS) return;
    if (!video.videoWidth) {
      timer = setTimeout(sendFrame, 50);
      return;
    }
    const width = Math.min(model.get("width"), video.videoWidth);
    const height = Math.round((video.videoHeight * width) / video.videoWidth);
    grab.width = width;
    grab.height = height;
    grab.getContext("2d").drawImage(video, 0, 0, width, height);
    const id = nextId++;
    inFlight = { id, sentAt: performance.now(), width, height };
    grab.toBlob(
      async (blob) => {
        if (!running || !inFlight || inFlight.id !== id) return;
        const buffer = await blob.arrayBuffer();
        model.send({ type: "frame", id, width, height }, undefined, [buffer]);
      },
      "image/jpeg",
      model.get("jpeg_quality"),
    );
    timer = setTimeout(sendFrame, REPLY_TIMEOUT_MS); // if no reply comes, try again then
  }

  function onMessage(message) {
    if (!message || typeof message !== "object") return;
    if (message.type === "stop") {
      halt(say("Stopped from the kernel."));
      return;
    }
    if (!running || !inFlight || message.id !== inFlight.id) return; // late replies after Stop are dropped
    const now = performance.now();
    const sent = inFlight;
    inFlight = null;
    if (message.type === "error") {
      setStatus(say("Kernel error: {message}", { message: message.message }), "error");
    } else if (message.type === "faces") {
      drawFaces(message.faces, sent.width);
      roundTrips.push(now);
      roundTrips = roundTrips.filter((time) => now - time < 2000);
      const fps = roundTrips.length > 1 ? (1000 * (roundTrips.length - 1)) / (now - roundTrips[0]) : 0;
      const count = message.faces.length;
      const values = { fps: number(fps, 1), count, ms: number(message.ms, 1) };
      status.textContent = count === 1 ? say("Running: {fps} frames/s, 1 face, kernel {ms} ms a frame", values)
        : say("Running: {fps} frames/s, {count} faces, kernel {ms} ms a frame", values);
    }
    if (timer) clearTimeout(timer);
    timer = setTimeout(sendFrame, 0);
  }

  async function begin() {
    start.disabled = true;
    setStatus(say("Opening the camera..."), "opening");
    try {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new TypeError("no mediaDevices");
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 } }, audio: false });
    } catch (error) {
      start.disabled = false;
      setStatus(explain(error, say), "error");
      return;
    }
    video.srcObject = stream;
    await video.play().catch(() => {});
    running = true;
    stop.disabled = false;
    roundTrips = [];
    model.send({ type: "start" });
    const track = stream.getVideoTracks()[0];
    setStatus(say('Running: camera "{label}"', { label: track ? track.label : "?" }), "running");
    sendFrame();
  }

  function halt(text) {
    const wasRunning = running || stream;
    root.dataset.faces = "0";
    root.dataset.emotions = "";
    overlay.getContext("2d").clearRect(0, 0, overlay.width, overlay.height);
    running = false;
    inFlight = null;
    if (timer) clearTimeout(timer);
    timer = null;
    if (stream) {
      for (const track of stream.getTracks()) track.stop();
    }
    stream = null;
    video.srcObject = null;
    start.disabled = false;
    stop.disabled = true;
    if (wasRunning && text) setStatus(text, "stopped");
  }

  start.addEventListener("click", begin);
  stop.addEventListener("click", () => halt(say("Stopped: the camera is off.")));
  model.on("msg:custom", onMessage);
  // Re-running the cell, closing the notebook and restarting the kernel remove this view: stop the camera.
  return () => {
    model.off("msg:custom", onMessage);
    halt(null);
  };
}

export default { render };
