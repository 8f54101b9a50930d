// Voice notes in the playground: record with MediaRecorder, transcode to 16 kHz mono WAV
// (what Stream's React SDK uploads for anything that is not MP4), 100 waveform values; and
// a player for `voiceRecording` attachments. Attachment fields are untrusted: text goes
// through textContent only, the URL must be http(s), numbers are clamped.

export const SAMPLE_RATE = 16000;
export const WAVEFORM_POINTS = 100;

// -- recording ----------------------------------------------------------------------------

export async function startRecording() {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const recorder = new MediaRecorder(stream);
  const chunks = [];
  recorder.addEventListener("dataavailable", (event) => { if (event.data.size) chunks.push(event.data); });
  const done = new Promise((resolve) => recorder.addEventListener("stop", () => {
    stream.getTracks().forEach((track) => track.stop());
    resolve(new Blob(chunks, { type: recorder.mimeType || "audio/webm" }));
  }));
  recorder.start();
  return { stop: () => { recorder.stop(); return done; }, cancel: () => recorder.stop() };
}

export async function toVoiceNote(blob) {
  // decodeAudioData reads WebM/Opus, MP4/AAC, WAV; OfflineAudioContext resamples and
  // mixes down to one channel, as the SDK's transcoder does.
  const decoded = await new AudioContext().decodeAudioData(await blob.arrayBuffer());
  const frames = Math.max(1, Math.ceil(decoded.duration * SAMPLE_RATE));
  const offline = new OfflineAudioContext(1, frames, SAMPLE_RATE);
  const source = offline.createBufferSource();
  source.buffer = decoded;
  source.connect(offline.destination);
  source.start();
  const samples = (await offline.startRendering()).getChannelData(0);
  return { wav: encodeWav(samples, SAMPLE_RATE), duration: samples.length / SAMPLE_RATE,
    waveform: waveformOf(samples) };
}

export function encodeWav(samples, rate) {
  const view = new DataView(new ArrayBuffer(44 + samples.length * 2));
  const text = (at, value) => [...value].forEach((c, i) => view.setUint8(at + i, c.charCodeAt(0)));
  text(0, "RIFF"); view.setUint32(4, 36 + samples.length * 2, true); text(8, "WAVE");
  text(12, "fmt "); view.setUint32(16, 16, true); view.setUint16(20, 1, true);
  view.setUint16(22, 1, true); view.setUint32(24, rate, true); view.setUint32(28, rate * 2, true);
  view.setUint16(32, 2, true); view.setUint16(34, 16, true);
  text(36, "data"); view.setUint32(40, samples.length * 2, true);
  samples.forEach((s, i) => view.setInt16(44 + i * 2, Math.max(-1, Math.min(1, s)) * 0x7fff, true));
  return new Blob([view], { type: "audio/wav" });
}

export function waveformOf(samples) {
  // Peak per bucket, scaled so the loudest is 1 (Stream's waveform_data).
  const size = Math.max(1, Math.floor(samples.length / WAVEFORM_POINTS));
  const peaks = Array.from({ length: WAVEFORM_POINTS }, (_, i) => {
    let peak = 0;
    for (let j = i * size; j < Math.min((i + 1) * size, samples.length); j++) {
      peak = Math.max(peak, Math.abs(samples[j]));
    }
    return peak;
  });
  const top = Math.max(...peaks) || 1;
  return peaks.map((p) => Math.round((p / top) * 1000) / 1000);
}

// -- the player ---------------------------------------------------------------------------

export function isVoiceRecording(attachment) {
  return Boolean(attachment) && typeof attachment === "object" && attachment.type === "voiceRecording";
}

export function voiceNote(attachment) {
  const node = document.createElement("div");
  node.className = "voice-note";
  const url = safeUrl(attachment.asset_url);
  const audio = document.createElement("audio");
  audio.preload = "metadata";
  if (url) audio.src = url;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "voice-play";
  button.setAttribute("aria-label", "Play voice message");
  button.disabled = !url;
  const wave = waveBars(attachment.waveform_data);
  const time = document.createElement("span");
  time.className = "voice-time";
  const total = clamp(Number(attachment.duration), 0, 36000);
  time.textContent = clock(total);
  button.addEventListener("click", () => (audio.paused ? audio.play() : audio.pause()));
  audio.addEventListener("play", () => node.classList.add("playing"));
  audio.addEventListener("pause", () => node.classList.remove("playing"));
  audio.addEventListener("timeupdate", () => {
    const length = audio.duration && Number.isFinite(audio.duration) ? audio.duration : total;
    paintProgress(wave, length ? audio.currentTime / length : 0);
    time.textContent = clock(audio.paused && !audio.currentTime ? total : audio.currentTime);
  });
  audio.addEventListener("ended", () => { paintProgress(wave, 0); time.textContent = clock(total); });
  node.append(button, wave, time, audio);
  return node;
}

function waveBars(values) {
  const wave = document.createElement("div");
  wave.className = "voice-wave";
  const list = Array.isArray(values) && values.length ? values.slice(0, 256) : new Array(40).fill(0.2);
  list.forEach((value) => {
    const bar = document.createElement("span");
    bar.style.height = `${Math.round(15 + clamp(Number(value), 0, 1) * 85)}%`;
    wave.append(bar);
  });
  return wave;
}

function paintProgress(wave, fraction) {
  const bars = wave.children;
  const played = Math.round(clamp(fraction, 0, 1) * bars.length);
  for (let i = 0; i < bars.length; i++) bars[i].classList.toggle("played", i < played);
}

function safeUrl(value) {
  try {
    const url = new URL(String(value), location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

function clamp(value, low, high) {
  return Number.isFinite(value) ? Math.min(Math.max(value, low), high) : low;
}

function clock(seconds) {
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}
