// The fire page. Log lines are hostile input: they only ever reach the page
// through textContent, never innerHTML, so a line is shown, never run.

const MAX_VISIBLE_BLOCKS = 120
const OVERLAY_MS = 1600
const ASHES_MS = 4000
const GENESIS_HASH = '816534932c2b7154836da6afc367695e6337db8a921823784c14378abed4f7d7'
const RECONNECT_MS = 2000

// A fire's own page is /f/<id>#<view token>: the token stays in the fragment,
// which the browser never sends, and every read carries it instead.
const FIRE_ID = /^\/f\/([\w-]+)$/.exec(location.pathname)?.[1]
const VIEW_TOKEN = FIRE_ID === undefined ? '' : decodeURIComponent(location.hash.slice(1))
const READ_HEADERS = VIEW_TOKEN === '' ? {} : { authorization: `Bearer ${VIEW_TOKEN}` }
const TOKEN_KEY = FIRE_ID === undefined ? 'logfire-admin-token' : `logfire-admin-token:${FIRE_ID}`

const $ = (id) => document.getElementById(id)

/** A read of this page's fire. */
function read (path, headers = {}) {
  return fetch(path, { headers: { ...READ_HEADERS, ...headers } })
}

const view = {
  chain: $('chain'),
  empty: $('empty'),
  ashes: $('ashes'),
  ashesDetail: $('ashes-detail'),
  length: $('length'),
  head: $('head'),
  fireRate: $('fire-rate'),
  burnRate: $('burn-rate'),
  gdpr: $('gdpr'),
  connection: $('connection'),
  printer: $('printer'),
  printerDetail: $('printer-detail'),
  stamp: $('stamp'),
  stampDetail: $('stamp-detail'),
  fault: $('fault'),
  faultTitle: $('fault-title'),
  faultDetail: $('fault-detail'),
  alert: $('alert-banner'),
  alertSeverity: $('alert-severity'),
  alertRule: $('alert-rule'),
  alertDescription: $('alert-description'),
  balloon: $('balloon')
}

let lastIndex = 0

function shortHash (hash) {
  return `${hash.slice(0, 8)}…${hash.slice(-6)}`
}

function percent (rate) {
  return `${Math.round(rate * 1000) / 10}%`
}

function element (tag, className, text) {
  const node = document.createElement(tag)
  if (className) node.className = className
  if (text !== undefined) node.textContent = text
  return node
}

function showHead (length, hash) {
  view.length.textContent = String(length)
  view.head.textContent = shortHash(hash)
  view.head.title = hash
  view.empty.hidden = length > 1
}

// Set by the stream's first scenario event: newer than the service's answer
// at start, which may arrive after it on a loaded machine.
let scenarioHeard = false

function onScenario (scenario) {
  scenarioHeard = true
  showScenario(scenario)
}

// The running scenario and its step, e.g. "flaky 1/1: fire: 3 requests".
function showScenario (scenario) {
  const running = scenario !== null && scenario !== undefined && scenario.step > 0
  $('scenario').hidden = !running
  if (running) $('scenario-step').textContent = `${scenario.name} ${scenario.step}/${scenario.of}: ${scenario.description}`
}

function showSettings ({ fireRate, burnRate, gdpr }) {
  view.fireRate.textContent = percent(fireRate)
  view.burnRate.textContent = percent(burnRate)
  view.gdpr.textContent = gdpr ? 'on' : 'off'
}

function renderBlock (block) {
  const card = element('li', 'block ignite')
  card.dataset.index = String(block.index)
  const head = element('div', 'block-head')
  head.append(
    element('span', 'block-index', `#${block.index}`),
    element('time', 'block-time', new Date(block.timestamp).toLocaleTimeString())
  )
  card.append(
    head,
    element('p', 'block-data', block.data),
    element('span', 'block-hash', shortHash(block.hash))
  )
  card.addEventListener('animationend', () => card.classList.remove('ignite'), { once: true })
  return card
}

function onBlock (block) {
  // A gap or a step back means this is another chain (a restart): start over.
  if (block.index <= lastIndex) view.chain.replaceChildren()
  lastIndex = block.index
  view.ashes.hidden = true
  view.chain.prepend(renderBlock(block))
  while (view.chain.children.length > MAX_VISIBLE_BLOCKS) view.chain.lastElementChild.remove()
  showHead(block.index + 1, block.hash)
}

let ashesTimer
function onBurn ({ burned, reason }) {
  lastIndex = 0
  const doomed = [...view.chain.children]
  for (const card of doomed) card.classList.add('incinerate')
  view.chain.replaceChildren(...doomed)
  showHead(1, GENESIS_HASH)
  view.empty.hidden = true
  setTimeout(() => {
    for (const card of doomed) card.remove()
    view.ashesDetail.textContent = `${burned} block${burned === 1 ? '' : 's'} lost (${reason})`
    view.ashes.hidden = false
    clearTimeout(ashesTimer)
    ashesTimer = setTimeout(() => {
      view.ashes.hidden = true
      view.empty.hidden = lastIndex > 0
    }, ASHES_MS)
  }, doomed.length > 0 ? 1400 : 0)
}

const overlayTimers = new Map()
function flash (overlay) {
  overlay.hidden = false
  clearTimeout(overlayTimers.get(overlay))
  overlayTimers.set(overlay, setTimeout(() => { overlay.hidden = true }, OVERLAY_MS))
}

function onFire ({ request }) {
  view.printerDetail.textContent = `503: request #${request} found the printer on fire`
  flash(view.printer)
}

// Faults below the status line: the network's failures, not the printer's.
const FAULTS = {
  delay: ({ ms }) => ['lag', `answered ${ms} ms late`],
  'slow-read': ({ bytesPerSecond }) => ['slow read', `body read at ${bytesPerSecond} bytes/s`],
  'slow-response': ({ ms }) => ['slow answer', `answer trickled out over ${ms} ms`],
  hang: () => ['hung', 'read, and never answered'],
  reset: () => ['connection reset', 'TCP RST before the body: nothing stored'],
  'reset-after-append': () => ['stored, then reset', 'TCP RST after the append: a retry duplicates it'],
  close: () => ['hung up', 'no answer at all: nothing stored'],
  garbage: () => ['200 ▚▞▚▞▚', 'stored, then answered with garbage'],
  status: ({ code }) => [String(code), 'answered by the chaos: nothing stored']
}

// The same faults on a stream connection, where there is no answer to withhold.
const STREAM_FAULTS = {
  reset: () => ['connection reset', 'TCP RST before the message: it and all in flight lost'],
  'reset-after-append': () => ['stored, then reset', 'TCP RST after the message was stored'],
  close: () => ['hung up', 'FIN before the message: the next write is lost'],
  stall: ({ ms, reset }) => reset ? ['stalled, then reset', `not read for ${ms} ms, then RST: everything in flight lost`] : ['stalled', `not read for ${ms} ms`],
  'slow-read': ({ bytesPerSecond }) => ['slow read', `read at ${bytesPerSecond} bytes/s`],
  hang: () => ['hung', 'not read until the connection ends']
}

function onFault ({ request, fault, protocol }) {
  const faults = protocol === undefined ? FAULTS : STREAM_FAULTS
  const [title, detail] = (faults[fault.name] ?? (() => [fault.name, '']))(fault)
  view.fault.dataset.fault = fault.name
  view.faultTitle.textContent = title
  view.faultDetail.textContent = `${protocol === undefined ? 'request' : `${protocol} message`} #${request}: ${detail}`
  flash(view.fault)
}

function onGdpr ({ request, term }) {
  view.stampDetail.textContent = `request #${request} mentioned “${term}”`
  flash(view.stamp)
}

const ALERT_MS = 8000
let alertTimer
function onAlert ({ rule, severity, description, count, digest, group, resolves }) {
  // A resolve (a flatline that ended) is good news: shown in the calm colours.
  const resolved = resolves !== undefined
  view.alert.dataset.severity = resolved ? 'info' : severity
  view.alertSeverity.textContent = resolved ? 'RESOLVED' : severity.toUpperCase()
  view.alertRule.textContent = `${rule}${digest || count > 1 ? ` ×${count}` : ''}${group === undefined ? '' : ` · ${group}`}`
  view.alertDescription.textContent = description
  view.alert.hidden = false
  clearTimeout(alertTimer)
  alertTimer = setTimeout(() => { view.alert.hidden = true }, ALERT_MS)
}

// The balloon on screen inflates while a balloon output's plug is on.
function onBalloon ({ inflating }) {
  view.balloon.hidden = false
  view.balloon.classList.toggle('inflating', inflating)
}

const HANDLERS = { block: onBlock, burn: onBurn, fire: onFire, fault: onFault, gdpr: onGdpr, alert: onAlert, balloon: onBalloon, scenario: onScenario }

function showLive () {
  view.connection.dataset.state = 'live'
  view.connection.textContent = 'live'
}

function showReconnecting () {
  view.connection.dataset.state = 'connecting'
  view.connection.textContent = 'reconnecting'
}

function listen () {
  if (VIEW_TOKEN !== '') {
    follow()
    return
  }
  const stream = new EventSource('/logs/stream')
  for (const [name, handler] of Object.entries(HANDLERS)) {
    stream.addEventListener(name, (event) => handler(JSON.parse(event.data)))
  }
  stream.addEventListener('open', showLive)
  stream.addEventListener('error', () => {
    showReconnecting()
    // The browser retries a dropped stream by itself, but gives up on a
    // refusal (a 503 when the stream is full): then the page tries again.
    if (stream.readyState === EventSource.CLOSED) setTimeout(listen, RECONNECT_MS)
  })
}

// EventSource cannot send a token, and a token in the URL would end up in
// access logs: a fire's page reads its stream with fetch, resuming from the
// last event it saw, as EventSource would.
async function follow () {
  let lastEventId
  for (;;) {
    try {
      const response = await read('/logs/stream', lastEventId === undefined ? {} : { 'last-event-id': lastEventId })
      if (!response.ok) throw new Error(`the stream answered ${response.status}`)
      showLive()
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += value
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const frame = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          let name = 'message'
          let data = ''
          for (const line of frame.split('\n')) {
            if (line.startsWith('event: ')) name = line.slice(7)
            else if (line.startsWith('data: ')) data += line.slice(6)
            else if (line.startsWith('id: ')) lastEventId = line.slice(4)
          }
          if (data !== '') HANDLERS[name]?.(JSON.parse(data))
        }
      }
    } catch {}
    showReconnecting()
    await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS))
  }
}

// Stage controls: there only when the server has an admin token and the
// speaker has typed it in.
const admin = {
  panel: $('admin'),
  open: $('admin-open'),
  login: $('admin-login'),
  token: $('admin-token'),
  error: $('admin-error'),
  controls: $('admin-controls'),
  burn: $('burn-now'),
  fireRate: $('fire-rate-input'),
  fireRateValue: $('fire-rate-value'),
  burnRate: $('burn-rate-input'),
  burnRateValue: $('burn-rate-value'),
  gdpr: $('gdpr-input'),
  lock: $('admin-lock')
}

async function adminFetch (method, path, body) {
  const token = sessionStorage.getItem(TOKEN_KEY) ?? ''
  const headers = { authorization: `Bearer ${token}` }
  if (body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const payload = await response.json()
  if (!response.ok) throw Object.assign(new Error(payload.message), { status: response.status })
  return payload
}

function showAdminSettings (settings) {
  admin.fireRate.value = String(settings.fireRate)
  admin.fireRateValue.textContent = percent(settings.fireRate)
  admin.burnRate.value = String(settings.burnRate)
  admin.burnRateValue.textContent = percent(settings.burnRate)
  admin.gdpr.checked = settings.gdpr
  showSettings(settings)
}

async function unlock () {
  try {
    showAdminSettings(await adminFetch('GET', '/admin/chaos'))
    admin.login.hidden = true
    admin.controls.hidden = false
    admin.error.textContent = ''
  } catch (error) {
    sessionStorage.removeItem(TOKEN_KEY)
    admin.controls.hidden = true
    admin.login.hidden = false
    admin.error.textContent = error.status === 401 ? 'Wrong token.' : `Could not unlock: ${error.message}`
  }
}

async function change (patch) {
  try {
    showAdminSettings(await adminFetch('PATCH', '/admin/chaos', patch))
  } catch (error) {
    admin.error.textContent = error.message
  }
}

function setUpAdmin () {
  admin.open.hidden = false
  admin.open.addEventListener('click', () => {
    admin.panel.hidden = !admin.panel.hidden
    if (!admin.panel.hidden && admin.controls.hidden) admin.token.focus()
  })
  admin.login.addEventListener('submit', (event) => {
    event.preventDefault()
    sessionStorage.setItem(TOKEN_KEY, admin.token.value)
    admin.token.value = ''
    unlock()
  })
  admin.lock.addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY)
    admin.controls.hidden = true
    admin.login.hidden = false
  })
  admin.burn.addEventListener('click', () => {
    adminFetch('DELETE', '/logs').catch((error) => { admin.error.textContent = error.message })
  })
  admin.fireRate.addEventListener('input', () => { admin.fireRateValue.textContent = percent(Number(admin.fireRate.value)) })
  admin.burnRate.addEventListener('input', () => { admin.burnRateValue.textContent = percent(Number(admin.burnRate.value)) })
  admin.fireRate.addEventListener('change', () => change({ fireRate: Number(admin.fireRate.value) }))
  admin.burnRate.addEventListener('change', () => change({ burnRate: Number(admin.burnRate.value) }))
  admin.gdpr.addEventListener('change', () => change({ gdpr: admin.gdpr.checked }))
  if (sessionStorage.getItem(TOKEN_KEY) !== null) {
    admin.panel.hidden = false
    unlock()
  }
}

// The canary runs being delivered: how many lines each got, lost and got twice.
const SCORECARD_MS = 2000
const ACTIVE_RUN_MS = 60_000

function renderRun (run) {
  const item = element('li', 'run')
  item.dataset.health = run.missing > 0 ? 'lost' : run.duplicates > 0 ? 'duplicated' : 'clean'
  item.append(
    element('span', 'run-id', run.run),
    element('span', 'run-count', `${run.unique} delivered`),
    element('span', 'run-count run-missing', `${run.missing} missing`),
    element('span', 'run-count run-duplicates', `${run.duplicates} twice`)
  )
  return item
}

async function watchScorecard () {
  const response = await read('/scorecard').catch(() => undefined)
  // A read token guards it: the page cannot send one, so it stops asking.
  if (response === undefined || response.status === 401) return
  if (response.ok) {
    const { runs } = await response.json()
    const newest = Math.max(0, ...runs.map((run) => run.lastArrival ?? run.started))
    const active = runs.filter((run) => newest - (run.lastArrival ?? run.started) <= ACTIVE_RUN_MS).reverse().slice(0, 4)
    $('runs-list').replaceChildren(...active.map(renderRun))
    $('runs').hidden = active.length === 0
  }
  setTimeout(watchScorecard, SCORECARD_MS)
}

const PEERS_MS = 2000
const STREAMS_MS = 2000

// The stream connections, live ones first: what each stored, what logfire
// refused, and what a cut left behind.
function renderConnection (connection) {
  const item = element('li', 'run')
  const refused = connection.refused.lp0 + connection.refused.gdpr + connection.refused.burn
  const lost = connection.discarded + (connection.cutBytes > 0 ? 1 : 0)
  item.dataset.health = lost > 0 ? 'lost' : refused > 0 ? 'duplicated' : 'clean'
  item.append(
    element('span', 'run-id', `${connection.protocol} #${connection.id}`),
    element('span', 'run-count', `${connection.stored} stored`),
    element('span', 'run-count run-duplicates', `${refused} refused`),
    element('span', 'run-count run-missing', connection.endedBy === undefined ? 'open' : `ended: ${connection.endedBy}`)
  )
  return item
}

async function watchStreams () {
  const response = await fetch('/streams').catch(() => undefined)
  if (response === undefined || response.status === 401) return
  if (response.ok) {
    const { listeners, live, recent } = await response.json()
    if (listeners.length === 0) return
    $('streams').hidden = false
    $('streams-list').replaceChildren(...[...live, ...recent.slice().reverse()].slice(0, 4).map(renderConnection))
  }
  setTimeout(watchStreams, STREAMS_MS)
}

// The naivechain peers, when the network is on: how many follow, and after a
// burn how many still hold the longer, burnt chain.
async function watchPeers () {
  const response = await fetch('/peers').catch(() => undefined)
  if (response === undefined || response.status === 401) return
  if (response.ok) {
    const { enabled, peers, remembering } = await response.json()
    if (!enabled) return
    $('peers').hidden = false
    $('peers-count').textContent = `${peers.length} ${peers.length === 1 ? 'peer' : 'peers'} connected`
    $('peers-remembering').hidden = remembering === 0
    $('peers-remembering').textContent = `${remembering} still ${remembering === 1 ? 'remembers' : 'remember'} the burnt chain`
  }
  setTimeout(watchPeers, PEERS_MS)
}

// Presenter keys: a speaker's hands stay on the keyboard. The ones that
// change the chaos need the stage controls unlocked.
const QUIET = { fireRate: 0, burnRate: 0, itemRejectRate: 0, delayRate: 0, slowReadRate: 0, slowResponseRate: 0, hangRate: 0, resetRate: 0, resetAfterAppendRate: 0, closeRate: 0, garbageRate: 0, statusRate: 0 }

const KEYS = {
  b: () => adminFetch('DELETE', '/logs'),
  f: () => adminFetch('PUT', '/admin/scenario', { name: 'next on fire', steps: [{ requests: 1, chaos: 'fire' }] }),
  g: () => change({ gdpr: !admin.gdpr.checked }),
  n: () => adminFetch('POST', '/admin/scenario/next'),
  p: async () => {
    const { scenario } = await adminFetch('GET', '/admin/scenario')
    if (scenario !== null && scenario.name === 'paused' && !scenario.ended) return adminFetch('DELETE', '/admin/scenario')
    return adminFetch('PUT', '/admin/scenario', { name: 'paused', steps: [{ pause: true, set: QUIET }] })
  }
}

function toggleBig () {
  document.documentElement.classList.toggle('big')
}

function onKey (event) {
  // Typing the token, or in any field, is not a command.
  const target = event.target
  if (event.ctrlKey || event.metaKey || event.altKey || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName)) return
  const key = event.key
  if (key === '?') {
    $('keys').hidden = !$('keys').hidden
    $('keys-locked').hidden = !admin.controls.hidden
  } else if (key === 'Escape') {
    $('keys').hidden = true
  } else if (key === 'l') {
    toggleBig()
  } else if (KEYS[key] !== undefined && !admin.controls.hidden) {
    Promise.resolve(KEYS[key]()).catch((error) => { admin.error.textContent = error.message })
  }
}

// On a fire's page: which fire it is, and how to feed it.
function showFire (id, hint) {
  $('fire-name').hidden = false
  $('fire-name').textContent = `fire ${id}`
  document.title = `logfire.io: fire ${id}`
  const fed = hint.replace('curl -d', "curl -H 'Authorization: Bearer <ingest token>' -d")
  $('curl-hint').textContent = fed
  $('curl-footer').textContent = fed
}

// On an open instance anyone may light a fire of their own: its tokens are
// shown once, here, and never again.
function offerNewFire () {
  const button = $('new-fire')
  button.hidden = false
  button.addEventListener('click', async () => {
    const response = await fetch('/fires', { method: 'POST' })
    const made = await response.json()
    if (!response.ok) {
      button.textContent = made.message
      return
    }
    $('fire-made-id').textContent = made.id
    $('fire-made-ingest').textContent = made.ingestToken
    $('fire-made-view').textContent = made.viewToken
    $('fire-made-admin').textContent = made.adminToken
    $('fire-made-curl').textContent = `curl -H 'Authorization: Bearer ${made.ingestToken}' -d 'hello' ${location.origin}/logs`
    $('fire-made-page').href = made.page
    $('fire-made').hidden = false
  })
  for (const copy of document.querySelectorAll('button.copy')) {
    copy.addEventListener('click', () => { navigator.clipboard?.writeText($(copy.dataset.copy).textContent) })
  }
}

async function start () {
  if (new URLSearchParams(location.search).has('big')) toggleBig()
  document.addEventListener('keydown', onKey)
  const hint = `curl -d 'hello' ${location.origin}/logs`
  $('curl-hint').textContent = hint
  $('curl-footer').textContent = hint
  // Known from the URL: shown before the stream goes live, never after.
  if (FIRE_ID !== undefined) showFire(FIRE_ID, hint)
  listen()
  watchScorecard()
  // Peers and stream listeners are the instance's, not one fire's.
  if (FIRE_ID === undefined) {
    watchPeers()
    watchStreams()
  }
  const service = await (await read('/', { accept: 'application/json' })).json()
  if (service.fires === 'open') offerNewFire()
  showSettings(service.chaos)
  if (!scenarioHeard) showScenario(service.scenario)
  if (lastIndex === 0) showHead(service.chain.length, service.chain.head)
  if (service.admin) setUpAdmin()
}

start()
