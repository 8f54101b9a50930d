// The gptbot playground: a small chat client for the local Stream emulator.
// Plain DOM, no build step. Message text is untrusted: it is only ever inserted through
// textContent or through renderMarkdown(), which escapes every piece before adding tags.

import { isVoiceRecording, startRecording, toVoiceNote, voiceNote } from "./voice.js";

const API = "/playground/api";
const CHANNEL_TYPE = "messaging";
const AI_TEXT = {
  AI_STATE_THINKING: "Thinking…",
  AI_STATE_GENERATING: "Generating…",
  AI_STATE_EXTERNAL_SOURCES: "Checking sources…",
  AI_STATE_ERROR: "Something went wrong",
  STOPPING: "Stopping…",
};
const ACTIVE_AI = new Set(["AI_STATE_THINKING", "AI_STATE_GENERATING",
  "AI_STATE_EXTERNAL_SOURCES", "STOPPING"]);
const AVATAR_COLORS = ["#005fff", "#7a5af8", "#e8590c", "#0ca678", "#d6336c", "#1098ad", "#f59f00"];

const BOT_ICON = '<svg viewBox="0 0 32 32"><path d="M9 11h14M9 16h9M9 21h5"/></svg>';

// An answer's steps, as Stream's AI components show them: one custom attachment per step
// (ai_tool_call, ai_reasoning), in order, above the reply's text. Statuses and wording follow
// Stream's Android ai-compose (AIToolCallPart.kt, AIToolCall.kt, strings.xml); a status we
// do not know reads as still in progress, like there.
const STEP_PREFIX = "ai_";
const TOOL_STATUS_TEXT = {
  "running": "In progress",
  "completed": "Completed",
  "failed": "Didn't complete",
  "cancelled": "Cancelled",
  "awaiting_approval": "Waiting for approval",
  "awaiting_client": "Waiting for the device",
};
const FINISHED_STATUSES = new Set(["completed", "failed", "cancelled"]);
const STATUS_AS_DETAIL = new Set(["failed", "cancelled", "awaiting_approval", "awaiting_client"]);
const STEP_ICONS = {
  completed: '<svg viewBox="0 0 24 24"><path d="M5 12.5l4.5 4.5L19 7.5"/></svg>',
  failed: '<svg viewBox="0 0 24 24"><path d="M12 6.5v7M12 17.5v.01"/></svg>',
  cancelled: '<svg viewBox="0 0 24 24"><path d="M7 7l10 10M17 7L7 17"/></svg>',
  awaiting_approval: '<svg viewBox="0 0 24 24"><circle cx="12" cy="12" r="8"/><path d="M12 8v4l2.5 2"/></svg>',
  awaiting_client: '<svg viewBox="0 0 24 24"><rect x="7" y="3" width="10" height="18" rx="2"/><path d="M11 17.5h2"/></svg>',
  reasoning: '<svg viewBox="0 0 24 24"><path d="M9 18h6M10 21h4M12 3a6 6 0 0 0-3.5 10.9c.6.5 1 1.2 1 2.1h5c0-.9.4-1.6 1-2.1A6 6 0 0 0 12 3z"/></svg>',
  unknown: '<svg viewBox="0 0 24 24"><path d="M12 4l1.8 5.2L19 11l-5.2 1.8L12 18l-1.8-5.2L5 11l5.2-1.8z"/></svg>',
};

const $ = (id) => document.getElementById(id);

const store = {
  me: loadUser(),
  channels: new Map(),   // cid -> channel summary
  current: `${CHANNEL_TYPE}:general`,
  messages: new Map(),   // id -> message, every channel and thread we have seen
  ai: new Map(),         // message id -> AI state from ai_indicator events
  aiMessage: new Map(),  // message id -> the bot's optional note (ai_message)
  hooks: new Map(),      // message id -> last webhook delivery (dev detail)
  stepOpen: new Map(),   // message id/step -> open or closed, when the reader chose
  unread: new Map(),     // cid -> count of messages that arrived while elsewhere
  thread: null,          // parent message id of the open thread
  commands: [],          // commands enabled on the current channel's type
  seq: 0,                // last change-feed position applied
};
let source = null;
let renderQueued = false;
const panes = {};

// -- markdown (safe subset) -------------------------------------------------------------

export function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

export function renderMarkdown(text) {
  // Fenced code first: its content is shown verbatim. An unclosed fence (still streaming)
  // runs to the end of the text.
  const out = [];
  const fence = /```([\w+-]*)[^\n]*\n?([\s\S]*?)(?:```|$)/g;
  let at = 0;
  for (const match of text.matchAll(fence)) {
    out.push(renderBlocks(text.slice(at, match.index)));
    out.push(`<pre><code>${escapeHtml(match[2].replace(/\n$/, ""))}</code></pre>`);
    at = match.index + match[0].length;
  }
  out.push(renderBlocks(text.slice(at)));
  return out.join("");
}

function renderBlocks(text) {
  const out = [];
  let paragraph = [];
  let list = null;
  const flushParagraph = () => {
    if (paragraph.length) out.push(`<p>${paragraph.map(renderInline).join("<br>")}</p>`);
    paragraph = [];
  };
  const flushList = () => {
    if (list) out.push(`<${list.tag}>${list.items.map((i) => `<li>${renderInline(i)}</li>`).join("")}</${list.tag}>`);
    list = null;
  };
  for (const line of text.split("\n")) {
    const item = line.match(/^\s*(?:([-*+])|\d+[.)])\s+(.*)$/);
    if (item) {
      flushParagraph();
      const tag = item[1] ? "ul" : "ol";
      if (!list || list.tag !== tag) { flushList(); list = { tag, items: [] }; }
      list.items.push(item[2]);
      continue;
    }
    flushList();
    const heading = line.match(/^#{1,6}\s+(.*)$/);
    // A quote line: how a voice answer shows what was heard ("> 🎤 …").
    const quote = line.match(/^\s*>\s?(.*)$/);
    if (!line.trim()) flushParagraph();
    else if (heading) { flushParagraph(); out.push(`<h4>${renderInline(heading[1])}</h4>`); }
    else if (quote) { flushParagraph(); out.push(`<blockquote>${renderInline(quote[1])}</blockquote>`); }
    else paragraph.push(line);
  }
  flushParagraph();
  flushList();
  return out.join("");
}

function renderInline(text) {
  // Split on code spans and links on the raw text, then escape each piece on its own.
  const token = /`([^`\n]+)`|\[([^\]\n]+)\]\(([^)\s]+)\)|(https?:\/\/[^\s<>()]+[^\s<>().,:;!?"'])/g;
  let html = "";
  let at = 0;
  for (const match of text.matchAll(token)) {
    html += renderEmphasis(text.slice(at, match.index));
    if (match[1] !== undefined) html += `<code>${escapeHtml(match[1])}</code>`;
    else if (match[2] !== undefined) html += renderLink(match[3], renderEmphasis(match[2]));
    else html += renderLink(match[4], escapeHtml(match[4]));
    at = match.index + match[0].length;
  }
  return html + renderEmphasis(text.slice(at));
}

function renderLink(url, label) {
  // Only web and mail links: a javascript: URL would run code when clicked.
  if (!/^(https?:\/\/|mailto:)/i.test(url)) return label;
  return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${label}</a>`;
}

function renderEmphasis(text) {
  // Runs on escaped text: the markers * _ ~ are never changed by escaping.
  return escapeHtml(text)
    .replace(/\*\*(?=\S)([^*]*?\S)\*\*/g, "<strong>$1</strong>")
    .replace(/__(?=\S)([^_]*?\S)__/g, "<strong>$1</strong>")
    .replace(/(^|[^*\w])\*(?=[^\s*])([^*]*?[^\s*])\*(?![*\w])/g, "$1<em>$2</em>")
    .replace(/(^|[^_\w])_(?=[^\s_])([^_]*?[^\s_])_(?![_\w])/g, "$1<em>$2</em>")
    .replace(/~~(?=\S)([^~]*?\S)~~/g, "<del>$1</del>");
}

// -- API --------------------------------------------------------------------------------

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const response = await fetch(API + path, init);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `${response.status} ${response.statusText}`);
  return data;
}

const userQuery = () => `user=${encodeURIComponent(store.me.id)}`;
const currentChannel = () => store.channels.get(store.current) || splitCid(store.current);

function splitCid(cid) {
  const [type, ...rest] = cid.split(":");
  return { cid, type, id: rest.join(":") };
}

// -- the change feed --------------------------------------------------------------------

function connect() {
  if (source) source.close();
  setConnection("connecting");
  source = new EventSource(`${API}/events?${userQuery()}&since=${store.seq}`);
  source.onopen = () => { setConnection("live"); fetchCommands(); };
  source.onerror = () => setConnection("connecting");
  source.onmessage = (event) => {
    const change = JSON.parse(event.data);
    store.seq = Math.max(store.seq, change.seq);
    applyChange(change);
    scheduleRender();
  };
}

function applyChange(change) {
  if (change.kind === "message.new") addMessage(change.message, true);
  else if (change.kind === "message.updated") store.messages.set(change.message.id, change.message);
  else if (change.kind === "event") applyEvent(change.event);
  else if (change.kind === "channel.created") addChannel(change.channel);
  else if (change.kind === "hook") store.hooks.set(change.message_id, change);
}

function applyEvent(event) {
  const id = event.message_id || event.cid;
  if (event.type === "ai_indicator.update") {
    store.ai.set(id, event.ai_state);
    store.aiMessage.set(id, event.ai_message || "");
  } else if (event.type === "ai_indicator.clear") store.ai.delete(id);
  else if (event.type === "ai_indicator.stop" && ACTIVE_AI.has(store.ai.get(id))) {
    store.ai.set(id, "STOPPING");
  }
}

function addMessage(message, live) {
  const known = store.messages.has(message.id);
  // History never replaces what the live feed already delivered: the feed is newer.
  if (known && !live) return;
  store.messages.set(message.id, message);
  if (known || !live) return;
  // Stream bumps the parent's reply_count without a message.updated for the parent.
  const parent = store.messages.get(message.parent_id);
  if (parent) parent.reply_count = (parent.reply_count || 0) + 1;
  const visibleHere = message.cid === store.current;
  if (!visibleHere && (!message.parent_id || message.show_in_channel)) {
    store.unread.set(message.cid, (store.unread.get(message.cid) || 0) + 1);
  }
}

function addChannel(channel) {
  store.channels.set(channel.cid, { cid: channel.cid, type: channel.type, id: channel.id,
    name: channel.name, created_at: channel.created_at });
}

// -- loading ----------------------------------------------------------------------------

async function loadChannels() {
  const data = await api(`/channels`);
  data.channels.forEach(addChannel);
  return data.seq;
}

async function loadChannel(cid) {
  const channel = splitCid(cid);
  const data = await api(`/channels/${channel.type}/${channel.id}/messages?${userQuery()}`);
  data.messages.forEach((m) => addMessage(m, false));
  addChannel(data.channel);
  return data.seq;
}

async function loadThread(parentId) {
  const data = await api(`/messages/${encodeURIComponent(parentId)}/replies?${userQuery()}`);
  addMessage(data.parent, false);
  data.messages.forEach((m) => addMessage(m, false));
}

async function start() {
  applyTheme();
  panes.channel = makeComposer($("channel-composer"), () => null);
  panes.thread = makeComposer($("thread-composer"), () => store.thread);
  bindChrome();
  const wanted = new URLSearchParams(location.search).get("channel");
  if (wanted) store.current = wanted.includes(":") ? wanted : `${CHANNEL_TYPE}:${wanted}`;
  // Read positions before history: the feed then replays whatever changed in between.
  const seqs = [await loadChannels(), await loadChannel(store.current)];
  store.seq = Math.min(...seqs);
  connect();
  renderAll();
  panes.channel.textarea.focus();
}

// -- rendering --------------------------------------------------------------------------

function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => { renderQueued = false; renderAll(); });
}

function renderAll() {
  renderProfile();
  renderChannels();
  renderChannelPane();
  renderThreadPane();
  renderAiBar(panes.channel, null);
  renderAiBar(panes.thread, store.thread);
}

function renderProfile() {
  $("profile-name").textContent = store.me.name || store.me.id;
  $("profile-id").textContent = `@${store.me.id}`;
  paintAvatar($("profile-avatar"), store.me);
}

function renderChannels() {
  const list = $("channel-list");
  const channels = [...store.channels.values()].sort((a, b) => a.created_at < b.created_at ? -1 : 1);
  list.replaceChildren(...channels.map(channelItem));
}

function channelItem(channel) {
  const item = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "channel-item" + (channel.cid === store.current ? " active" : "");
  button.dataset.cid = channel.cid;
  const hash = span("channel-hash", "#");
  const name = span("channel-name", channel.name || channel.id);
  button.append(hash, name);
  const unread = store.unread.get(channel.cid);
  if (unread) button.append(span("unread", String(unread)));
  button.addEventListener("click", () => selectChannel(channel.cid));
  item.append(button);
  return item;
}

function renderChannelPane() {
  const channel = currentChannel();
  const title = channel.name || channel.id;
  $("channel-title").textContent = title;
  $("channel-cid").textContent = store.current;
  $("welcome-channel").textContent = `#${title}`;
  const messages = sortedMessages((m) => m.cid === store.current
    && (!m.parent_id || m.show_in_channel));
  $("welcome").hidden = messages.length > 0;
  renderList($("channel-messages"), $("channel-scroller"), messages);
}

function renderThreadPane() {
  const pane = $("thread-pane");
  const parent = store.messages.get(store.thread);
  pane.hidden = !parent;
  $("app").classList.toggle("with-thread", Boolean(parent));
  if (!parent) return;
  const replies = sortedMessages((m) => m.parent_id === store.thread);
  const count = replies.length;
  $("thread-subtitle").textContent = `${count} ${count === 1 ? "reply" : "replies"} · #${currentChannel().id}`;
  $("thread-divider").textContent = count ? `${count} ${count === 1 ? "reply" : "replies"}` : "No replies yet";
  renderList($("thread-parent"), null, [parent], { inThread: true });
  renderList($("thread-messages"), $("thread-scroller"), replies, { inThread: true });
}

function sortedMessages(keep) {
  return [...store.messages.values()].filter(keep)
    .sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
}

function renderList(container, scroller, messages, options = {}) {
  // Keyed update: a message's node is rebuilt only when something it shows changed, so a
  // growing answer does not disturb the rest of the list (or a text selection in it).
  const stick = scroller && scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  const existing = new Map([...container.children].map((node) => [node.dataset.id, node]));
  messages.forEach((message, index) => {
    const previous = messages[index - 1];
    const node = existing.get(message.id) || document.createElement("div");
    existing.delete(message.id);
    const continued = Boolean(previous && previous.user.id === message.user.id
      && minutesBetween(previous, message) < 3 && !previous.reply_count);
    const signature = messageSignature(message, continued, options);
    if (node.dataset.signature !== signature) {
      fillMessage(node, message, continued, options);
      node.dataset.signature = signature;
    }
    if (container.children[index] !== node) container.insertBefore(node, container.children[index] || null);
  });
  existing.forEach((node) => node.remove());
  if (stick) scroller.scrollTop = scroller.scrollHeight;
}

function messageSignature(message, continued, options) {
  const hook = store.hooks.get(message.id);
  return JSON.stringify([message.updated_at, message.text, message.type, message.generating,
    message.attachments,
    message.reply_count, message.user.name, store.ai.get(message.id), hook && hook.seq,
    continued, Boolean(options.inThread), store.me.id]);
}

function fillMessage(node, message, continued, options) {
  const mine = message.user.id === store.me.id;
  node.className = messageClasses(message, mine, continued);
  node.dataset.id = message.id;
  const avatar = document.createElement("div");
  avatar.className = "avatar";
  paintAvatar(avatar, message.user);
  if (message.ai_generated) avatar.innerHTML = BOT_ICON;
  const body = document.createElement("div");
  body.className = "message-body";
  body.append(messageMeta(message, mine), messageBubble(message));
  const aiState = messageAiState(message);
  if (aiState) body.append(aiState);
  const footer = messageFooter(message, options);
  if (footer.childElementCount) body.append(footer);
  node.replaceChildren(avatar, body, messageActions(message, options));
}

function messageClasses(message, mine, continued) {
  const classes = ["message", `type-${message.type}`];
  if (mine) classes.push("mine");
  if (message.ai_generated) classes.push("bot");
  if (message.generating) classes.push("generating");
  if (continued) classes.push("continued");
  return classes.join(" ");
}

function messageMeta(message, mine) {
  const meta = document.createElement("div");
  meta.className = "message-meta";
  meta.append(span("author", mine ? "You" : message.user.name || message.user.id));
  if (message.ai_generated) meta.append(span("badge", "AI"));
  const time = document.createElement("time");
  time.dateTime = message.created_at;
  time.textContent = new Date(message.created_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  meta.append(time);
  return meta;
}

function messageBubble(message) {
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  const steps = messageSteps(message);
  if (steps) bubble.append(steps);
  (Array.isArray(message.attachments) ? message.attachments : [])
    .filter(isVoiceRecording).forEach((attachment) => bubble.append(voiceNote(attachment)));
  const text = document.createElement("div");
  text.className = "message-text";
  if (message.type === "deleted") text.textContent = "This message was deleted.";
  else if (message.command && message.text.startsWith(`/${message.command}`)) {
    text.append(span("command-chip", `/${message.command}`));
    const rest = document.createElement("span");
    rest.innerHTML = renderMarkdown(message.text.slice(message.command.length + 1).trim());
    text.append(rest);
  } else text.innerHTML = renderMarkdown(message.text || "");
  if (message.generating && !message.text) text.append(typingDots());
  bubble.append(text);
  return bubble;
}

function typingDots() {
  const dots = span("typing-dots", "");
  dots.append(span("", ""), span("", ""), span("", ""));
  return dots;
}

// -- an answer's steps (ai_tool_call, ai_reasoning attachments) ----------------------------

function messageSteps(message) {
  const steps = (Array.isArray(message.attachments) ? message.attachments : [])
    .filter((a) => a && typeof a === "object" && stepField(a, "type").startsWith(STEP_PREFIX));
  if (!steps.length) return null;
  const list = document.createElement("div");
  list.className = "ai-steps";
  steps.forEach((step, index) => {
    const key = `${message.id}/${stepField(step, "type")}/${stepField(step, "id") || index}`;
    list.append(renderStep(step, key));
  });
  return list;
}

function renderStep(step, key) {
  // A newer format of a known kind is shown like an unknown kind, as Stream's SDKs do.
  const version = stepNumber(step, "v");
  const known = version === null || version <= 1;
  const kind = stepField(step, "type");
  if (known && kind === "ai_tool_call") return toolCallStep(step, key);
  if (known && kind === "ai_reasoning") return reasoningStep(step, key);
  const node = document.createElement("div");
  node.className = "ai-step unsupported";
  node.append(stepIcon("unknown"), span("ai-step-title", "A step this app version can't show"));
  return node;
}

function toolCallStep(step, key) {
  const status = stepField(step, "status") || "running";
  const name = stepField(step, "name");
  const finished = FINISHED_STATUSES.has(status);
  const duration = finished ? stepNumber(step, "duration_ms") : null;
  const detail = stepField(step, "summary")
    || (STATUS_AS_DETAIL.has(status) ? TOOL_STATUS_TEXT[status] : "");
  const { node, head } = collapsible(`ai-step tool-call`, key, false);
  node.dataset.status = status;
  const title = stepField(step, "display_title") || name.replaceAll("_", " ") || "Tool";
  head.append(stepIcon(status), stepTitle(title, detail), stepDuration(duration));
  const body = stepBody();
  body.append(stepFact("Tool", name || "—", true),
    stepFact("Status", TOOL_STATUS_TEXT[status] || status));
  const args = step.arguments;
  if (args && typeof args === "object") {
    const pre = document.createElement("pre");
    pre.className = "ai-step-arguments";
    pre.textContent = JSON.stringify(args, null, 2);
    body.append(pre);
  }
  node.append(body);
  return node;
}

function reasoningStep(step, key) {
  const status = stepField(step, "status") || "completed";
  const streaming = status === "streaming";
  const duration = stepNumber(step, "duration_ms");
  const time = duration === null ? "" : formatDuration(duration);
  const label = streaming ? (time ? `Thinking… ${time}` : "Thinking…")
    : (time ? `Thought for ${time}` : "Thought process");
  // Open while the model thinks, folded once it is done, unless the reader chose.
  const { node, head } = collapsible("ai-step reasoning", key, streaming);
  node.dataset.status = status;
  head.append(stepIcon(streaming ? "running" : "reasoning"),
    stepTitle(label, stepField(step, "summary")), stepDuration(null));
  const body = stepBody();
  const preview = stepField(step, "preview");
  const text = document.createElement("div");
  text.className = "ai-step-preview message-text";
  if (preview) text.innerHTML = renderMarkdown(preview);  // escapes every piece
  else text.textContent = streaming ? "…" : "No reasoning text was shared.";
  body.append(text);
  node.append(body);
  return node;
}

function collapsible(className, key, openByDefault) {
  const node = document.createElement("details");
  node.className = className;
  node.open = store.stepOpen.has(key) ? store.stepOpen.get(key) : openByDefault;
  const head = document.createElement("summary");
  head.className = "ai-step-head";
  // Clicks (and Enter/Space) come before the toggle: `open` still holds the old value.
  head.addEventListener("click", () => store.stepOpen.set(key, !node.open));
  node.append(head);
  return { node, head };
}

function stepIcon(status) {
  const icon = span("ai-step-icon", "");
  icon.dataset.icon = STEP_ICONS[status] ? status : "running";
  if (STEP_ICONS[status]) icon.innerHTML = STEP_ICONS[status];  // a constant of this file
  icon.setAttribute("aria-hidden", "true");
  return icon;
}

function stepTitle(title, detail) {
  const text = span("ai-step-text", "");
  text.append(span("ai-step-title", title));
  if (detail) text.append(span("ai-step-detail", detail));
  return text;
}

function stepDuration(ms) {
  return span("ai-step-duration", ms === null ? "" : formatDuration(ms));
}

function stepBody() {
  const body = document.createElement("div");
  body.className = "ai-step-body";
  return body;
}

function stepFact(label, value, mono = false) {
  const row = document.createElement("div");
  row.className = "ai-step-fact";
  row.append(span("ai-step-label", label), span(mono ? "ai-step-value mono" : "ai-step-value", value));
  return row;
}

function stepField(step, key) {
  // Read like Stream's decoder: a value of another type, or an empty string, is missing.
  const value = step[key];
  return typeof value === "string" ? value : "";
}

function stepNumber(step, key) {
  const value = step[key];
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : null;
}

export function formatDuration(ms) {
  // "0.4s", "7s", "2m", "1m 5s", as Stream's components write durations.
  const seconds = ms / 1000;
  if (seconds < 1) return `${(Math.round(seconds * 10) / 10).toFixed(1)}s`;
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds - minutes * 60);
  return rest ? `${minutes}m ${rest}s` : `${minutes}m`;
}

function messageAiState(message) {
  // In the bubble only before the first words (or on error); the composer bar says the rest.
  const state = store.ai.get(message.id);
  const error = state === "AI_STATE_ERROR";
  if (!state || (!error && (!message.generating || message.text))) return null;
  const node = span(`message-ai-state${error ? " error" : ""}`, AI_TEXT[state] || state);
  node.dataset.state = state;
  return node;
}

function messageFooter(message, options) {
  const footer = document.createElement("div");
  footer.className = "message-footer";
  if (message.type === "ephemeral" || message.type === "error") {
    footer.append(span("private-note", "Only visible to you"));
  }
  if (message.reply_count && !options.inThread) {
    const link = document.createElement("button");
    link.type = "button";
    link.className = "replies-link";
    link.textContent = `${message.reply_count} ${message.reply_count === 1 ? "reply" : "replies"}`;
    link.addEventListener("click", () => openThread(message.id));
    footer.append(link);
  }
  const hook = store.hooks.get(message.id);
  if (hook) footer.append(hookNote(hook));
  return footer;
}

function hookNote(hook) {
  const ok = hook.outcome !== "timeout" && hook.outcome !== "error" && hook.outcome !== "unreachable";
  const status = hook.status ? `${hook.status}` : hook.outcome;
  const note = span(`hook-note${ok ? "" : " failed"}`, `webhook ${status} · ${Math.round(hook.elapsed_ms)} ms`);
  note.title = `/${hook.command} → ${hook.url} (${hook.outcome}, attempt ${hook.attempt})`;
  return note;
}

function messageActions(message, options) {
  const actions = document.createElement("div");
  actions.className = "message-actions";
  const canThread = !options.inThread && !message.parent_id
    && message.type !== "ephemeral" && message.type !== "error" && message.type !== "deleted";
  if (canThread) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "icon-button reply-button";
    button.title = "Reply in thread";
    button.setAttribute("aria-label", "Reply in thread");
    button.innerHTML = '<svg viewBox="0 0 24 24"><path d="M20 15a3 3 0 0 1-3 3H8l-4 3V6a3 3 0 0 1 3-3h10a3 3 0 0 1 3 3z"/></svg>';
    button.addEventListener("click", () => openThread(message.id));
    actions.append(button);
  }
  return actions;
}

function renderAiBar(pane, parentId) {
  const active = activeAi(parentId);
  pane.aiBar.hidden = !active;
  if (!active) return;
  pane.aiBar.dataset.state = active.state;
  pane.aiText.textContent = store.aiMessage.get(active.id) || AI_TEXT[active.state] || active.state;
  pane.stop.disabled = active.state === "STOPPING";
  pane.stop.onclick = () => stopGenerating(active.id);
}

function activeAi(parentId) {
  for (const [id, state] of store.ai) {
    const message = store.messages.get(id);
    if (!ACTIVE_AI.has(state) || !message || message.cid !== store.current) continue;
    if (message.generating === false) continue;
    if ((message.parent_id || null) === parentId) return { id, state };
  }
  return null;
}

// -- small DOM helpers ------------------------------------------------------------------

function span(className, text) {
  const node = document.createElement("span");
  if (className) node.className = className;
  node.textContent = text;
  return node;
}

function paintAvatar(node, user) {
  const name = user.name || user.id || "?";
  node.textContent = initials(name);
  node.style.background = AVATAR_COLORS[hash(user.id || name) % AVATAR_COLORS.length];
  node.title = name;
}

function initials(name) {
  const words = name.replace(/[^\p{L}\p{N} ]/gu, " ").trim().split(/\s+/).filter(Boolean);
  if (!words.length) return "?";
  return (words.length > 1 ? words[0][0] + words[1][0] : words[0][0]).toUpperCase();
}

function hash(text) {
  let value = 0;
  for (const char of text) value = (value * 31 + char.codePointAt(0)) >>> 0;
  return value;
}

function minutesBetween(a, b) {
  return Math.abs(new Date(b.created_at) - new Date(a.created_at)) / 60000;
}

// -- composer ---------------------------------------------------------------------------

function makeComposer(slot, parentId) {
  slot.append($("composer-template").content.cloneNode(true));
  const pane = {
    slot, parentId,
    form: slot.querySelector(".composer"),
    textarea: slot.querySelector("textarea"),
    aiBar: slot.querySelector(".ai-bar"),
    aiText: slot.querySelector(".ai-text"),
    stop: slot.querySelector(".stop-button"),
    suggestions: slot.querySelector(".suggestions"),
    items: slot.querySelector(".suggestion-items"),
    error: slot.querySelector(".composer-error"),
    mic: slot.querySelector(".mic-button"),
    commands: [], selected: 0, recording: null,
  };
  pane.mic.addEventListener("click", () => toggleRecording(pane));
  pane.textarea.addEventListener("input", () => { autosize(pane.textarea); updateSuggestions(pane); });
  pane.textarea.addEventListener("keydown", (event) => onComposerKey(pane, event));
  pane.form.addEventListener("submit", (event) => { event.preventDefault(); submit(pane); });
  return pane;
}

function autosize(textarea) {
  textarea.style.height = "auto";
  textarea.style.height = `${Math.min(textarea.scrollHeight, 200)}px`;
}

function onComposerKey(pane, event) {
  const open = !pane.suggestions.hidden && pane.commands.length > 0;
  if (open && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
    event.preventDefault();
    const step = event.key === "ArrowDown" ? 1 : -1;
    pane.selected = (pane.selected + step + pane.commands.length) % pane.commands.length;
    renderSuggestions(pane);
  } else if (open && (event.key === "Tab" || event.key === "Enter")) {
    event.preventDefault();
    pickCommand(pane, pane.commands[pane.selected]);
  } else if (open && event.key === "Escape") {
    pane.suggestions.hidden = true;
  } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    submit(pane);
  }
}

function commandPrefix(pane) {
  // Suggest only while the text is a bare "/name" prefix, as Stream's composer does.
  const match = pane.textarea.value.match(/^\/(\w*)$/);
  return match ? match[1].toLowerCase() : null;
}

async function updateSuggestions(pane) {
  if (commandPrefix(pane) === null) { pane.suggestions.hidden = true; return; }
  // Commands are read when the list opens: /gpt may have been registered since page load.
  if (pane.suggestions.hidden) pane.available = await fetchCommands();
  const prefix = commandPrefix(pane);  // the text may have changed during the fetch
  pane.commands = (pane.available || []).filter((c) => prefix !== null && c.name.startsWith(prefix));
  pane.selected = Math.min(pane.selected, Math.max(pane.commands.length - 1, 0));
  pane.suggestions.hidden = pane.commands.length === 0;
  renderSuggestions(pane);
}

async function fetchCommands() {
  try {
    const data = await api(`/commands/${encodeURIComponent(currentChannel().type)}`);
    // Custom commands (like /gpt) first: they are what this playground is for.
    store.commands = data.commands.sort((a, b) => Number(Boolean(a.set)) - Number(Boolean(b.set)));
  } catch {
    store.commands = [];
  }
  renderCommands();
  return store.commands;
}

function renderCommands() {
  // Built-in commands have a `set` (fun_set, moderation_set); the bot's own have none.
  const custom = store.commands.filter((c) => !c.set);
  $("command-empty").hidden = custom.length > 0;
  $("command-list").replaceChildren(...custom.map((command) => {
    const item = document.createElement("li");
    item.title = command.description || "";
    item.append(span("command-name", `/${command.name}`), span("command-args", command.args || ""));
    return item;
  }));
}

function renderSuggestions(pane) {
  pane.items.replaceChildren(...pane.commands.map((command, index) => {
    const item = document.createElement("div");
    item.className = "suggestion" + (index === pane.selected ? " selected" : "");
    item.setAttribute("role", "option");
    item.dataset.command = command.name;
    const icon = span("suggestion-icon", command.set ? "⚡" : "✦");
    const name = span("suggestion-name", `/${command.name}`);
    const args = span("suggestion-args", command.args || "");
    const description = span("suggestion-description", command.description || "");
    item.append(icon, name, args, description);
    item.addEventListener("mousedown", (event) => { event.preventDefault(); pickCommand(pane, command); });
    return item;
  }));
}

function pickCommand(pane, command) {
  pane.textarea.value = `/${command.name} `;
  pane.suggestions.hidden = true;
  pane.textarea.focus();
}

async function submit(pane) {
  const text = pane.textarea.value;
  if (!text.trim()) return;
  const channel = currentChannel();
  const body = { channel_type: channel.type, channel_id: channel.id, user: store.me, text,
    parent_id: pane.parentId() };
  pane.textarea.value = "";
  autosize(pane.textarea);
  pane.suggestions.hidden = true;
  showError(pane, "");
  try {
    const { message } = await api("/send", body);
    if (message.type !== "deleted") addMessage(message, true);
    scheduleRender();
  } catch (error) {
    pane.textarea.value = text;  // give the text back so nothing typed is lost
    showError(pane, error.message);
  }
}

// -- voice notes: record, transcode to 16 kHz WAV, upload, send with /gpt ------------------

async function toggleRecording(pane) {
  if (pane.recording) {
    const recording = pane.recording;
    pane.recording = null;
    setRecording(pane, false);
    await sendVoice(pane, await recording.stop());
    return;
  }
  showError(pane, "");
  try {
    pane.recording = await startRecording();
    setRecording(pane, true);
  } catch (error) {
    showError(pane, `Cannot record: ${error.message}`);
  }
}

function setRecording(pane, on) {
  pane.mic.classList.toggle("recording", on);
  // When the recording began: a test (or a curious user) can tell how long it has run.
  if (on) pane.mic.dataset.since = String(Date.now()); else delete pane.mic.dataset.since;
  pane.mic.title = on ? "Stop and send to /gpt" : "Record a voice message for /gpt";
}

async function sendVoice(pane, blob) {
  const channel = currentChannel();
  const typed = pane.textarea.value.trim();
  // The recording rides on the command message, as a composer that stacks it with text.
  const text = typed.startsWith("/") ? typed : `/gpt ${typed}`.trim();
  try {
    const note = await toVoiceNote(blob);
    const form = new FormData();
    const title = `audio_recording_${new Date().toISOString()}.wav`;
    form.append("file", note.wav, title);
    form.append("channel_type", channel.type);
    form.append("channel_id", channel.id);
    form.append("user", store.me.id);
    const response = await fetch(`${API}/upload`, { method: "POST", body: form });
    const uploaded = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(uploaded.error || `${response.status} upload failed`);
    const attachment = { type: "voiceRecording", asset_url: uploaded.file, title,
      mime_type: "audio/wav", file_size: note.wav.size,
      duration: Math.round(note.duration * 100) / 100, waveform_data: note.waveform };
    pane.textarea.value = "";
    autosize(pane.textarea);
    const { message } = await api("/send", { channel_type: channel.type, channel_id: channel.id,
      user: store.me, text, parent_id: pane.parentId(), attachments: [attachment] });
    if (message.type !== "deleted") addMessage(message, true);
    scheduleRender();
  } catch (error) {
    showError(pane, `Voice message not sent: ${error.message}`);
  }
}

function showError(pane, text) {
  pane.error.textContent = text;
  pane.error.hidden = !text;
}

async function stopGenerating(messageId) {
  const channel = currentChannel();
  try {
    await api("/stop", { channel_type: channel.type, channel_id: channel.id,
      user: store.me, message_id: messageId });
  } catch (error) {
    showError(panes.channel, error.message);
  }
}

// -- channels, threads, profile, theme ----------------------------------------------------

async function selectChannel(cid) {
  store.current = cid;
  store.thread = null;
  store.unread.delete(cid);
  history.replaceState(null, "", `?channel=${encodeURIComponent(splitCid(cid).id)}`);
  renderAll();
  await loadChannel(cid);
  renderAll();
  panes.channel.textarea.focus();
}

async function openThread(parentId) {
  store.thread = parentId;
  await loadThread(parentId);
  renderAll();
  $("thread-scroller").scrollTop = $("thread-scroller").scrollHeight;
  panes.thread.textarea.focus();
}

async function createChannel(event) {
  event.preventDefault();
  const input = $("new-channel-name");
  const name = input.value.trim();
  if (!name) return;
  try {
    const { channel } = await api("/channels", { name, user: store.me });
    addChannel(channel);
    input.value = "";
    await selectChannel(channel.cid);
  } catch (error) {
    input.setCustomValidity(error.message);
    input.reportValidity();
  }
}

function loadUser() {
  try {
    const saved = JSON.parse(localStorage.getItem("gptbot.user") || "null");
    if (saved && /^[\w@.-]{1,64}$/.test(saved.id)) return saved;
  } catch { /* a broken saved value falls back to the default */ }
  return { id: "you", name: "You" };
}

function toggleProfileForm(open) {
  $("profile-form").hidden = !open;
  $("profile").hidden = open;
  if (!open) return;
  $("profile-name-input").value = store.me.name || "";
  $("profile-id-input").value = store.me.id;
  $("profile-name-input").focus();
}

async function saveProfile(event) {
  event.preventDefault();
  const id = $("profile-id-input").value.trim() || "you";
  const name = $("profile-name-input").value.trim() || id;
  const changedId = id !== store.me.id;
  store.me = { id, name };
  localStorage.setItem("gptbot.user", JSON.stringify(store.me));
  toggleProfileForm(false);
  if (changedId) {
    // Private (ephemeral) messages belong to the old id: start over as the new user.
    store.messages.clear();
    await loadChannel(store.current);
    connect();
  }
  renderAll();
}

function applyTheme() {
  const theme = localStorage.getItem("gptbot.theme") || "auto";
  document.documentElement.dataset.theme = theme;
  $("theme-toggle").title = { auto: "Theme: follow the system", light: "Theme: light", dark: "Theme: dark" }[theme];
}

function cycleTheme() {
  const order = ["auto", "light", "dark"];
  const current = localStorage.getItem("gptbot.theme") || "auto";
  localStorage.setItem("gptbot.theme", order[(order.indexOf(current) + 1) % order.length]);
  applyTheme();
}

function setConnection(state) {
  $("connection").dataset.state = state;
  $("connection-text").textContent = state === "live" ? "Live" : "Connecting…";
  $("connection-host").textContent = location.host;
}

function bindChrome() {
  $("new-channel").addEventListener("submit", createChannel);
  $("new-channel-name").addEventListener("input", (e) => e.target.setCustomValidity(""));
  $("thread-close").addEventListener("click", () => { store.thread = null; renderAll(); });
  $("profile-edit").addEventListener("click", () => toggleProfileForm(true));
  $("profile-cancel").addEventListener("click", () => toggleProfileForm(false));
  $("profile-form").addEventListener("submit", saveProfile);
  $("theme-toggle").addEventListener("click", cycleTheme);
  for (const example of document.querySelectorAll(".example")) {
    example.addEventListener("click", () => {
      panes.channel.textarea.value = example.textContent;
      panes.channel.textarea.focus();
      updateSuggestions(panes.channel);
    });
  }
}

start().catch((error) => {
  document.body.dataset.error = error.message;
  console.error(error);
});
