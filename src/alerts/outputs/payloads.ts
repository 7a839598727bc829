import type { Alert } from '../engine.js'
import type { Severity } from '../rule.js'

/*
 * What each output sends, as pure functions of an alert. Sizes follow each
 * service's documented limits.
 */

const cut = (text: string, max: number) => text.length <= max ? text : text.slice(0, max - 1) + '…'

// Slack's mrkdwn: &, < and > are control characters.
export const escapeSlack = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

const EMOJI: Record<Severity, string> = { critical: '🔥', high: '🚨', medium: '⚠️', low: 'ℹ️', info: 'ℹ️' }

/** Where an alert came from, for people: a block of the chain, or a rule's window. */
const origin = (alert: Alert): string => alert.block === undefined ? 'no block: nothing matched' : `block ${alert.block.epoch}-${alert.block.index}`

/** A Slack incoming webhook message: blocks, and a text fallback for notifications. */
export function slackMessage (alert: Alert, description: string) {
  const title = alert.resolves !== undefined
    ? `✅ RESOLVED: ${alert.rule}`
    : `${EMOJI[alert.severity]} ${alert.severity.toUpperCase()}: ${alert.rule}${alert.digest || alert.count > 1 ? ` (×${alert.count})` : ''}${alert.group === undefined ? '' : ` · ${alert.group}`}`
  return {
    text: cut(`${title}: ${description}`, 3000),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: cut(title, 150), emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: cut(escapeSlack(description), 3000) } },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: cut(`logfire.io · ${origin(alert)} · ${new Date(alert.time).toISOString()}`, 3000) }]
      }
    ]
  }
}

const PAGERDUTY_SEVERITY: Record<Severity, 'critical' | 'error' | 'warning' | 'info'> = {
  critical: 'critical', high: 'error', medium: 'warning', low: 'info', info: 'info'
}

/**
 * The incident an alert belongs to, the same when it is retried: the rule
 * and the block that fired it, or for a flatline (which has no block) the
 * alert that fired, which its resolve names.
 */
export function incidentKey (alert: Alert): string {
  const fired = alert.resolves ?? alert.id
  const where = alert.block === undefined || alert.resolves !== undefined ? `alert-${fired}` : `${alert.block.epoch}-${alert.block.index}`
  return cut(`logfire:${alert.rule}:${where}${alert.group === undefined ? '' : `:${alert.group}`}`, 255)
}

/** A PagerDuty Events API v2 resolve of the incident a flatline opened. */
export function pagerDutyResolve (alert: Alert, routingKey: string) {
  return { routing_key: routingKey, event_action: 'resolve', dedup_key: incidentKey(alert) }
}

/** A PagerDuty Events API v2 trigger. */
export function pagerDutyEvent (alert: Alert, description: string, routingKey: string) {
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: incidentKey(alert),
    payload: {
      summary: cut(description, 1024),
      source: 'logfire.io',
      severity: PAGERDUTY_SEVERITY[alert.severity],
      timestamp: new Date(alert.time).toISOString(),
      component: alert.rule,
      group: 'logfire',
      class: alert.severity,
      custom_details: { block: alert.block, count: alert.count, digest: alert.digest, group: alert.group }
    },
    client: 'logfire.io'
  }
}

/** The body of a generic webhook: the alert as GET /alerts shows it. */
export function webhookBody (alert: Alert, description: string) {
  return { type: alert.resolves === undefined ? 'logfire.alert' : 'logfire.alert.resolved', timestamp: new Date(alert.time).toISOString(), data: { ...alert, description } }
}

/** Stable across retries, as the Standard Webhooks specification asks. */
export function webhookId (alert: Alert): string {
  return `msg_${alert.rule}_${alert.block === undefined ? 'window' : `${alert.block.epoch}_${alert.block.index}`}_${alert.id}`
}
