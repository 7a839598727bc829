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

/** A Slack incoming webhook message: blocks, and a text fallback for notifications. */
export function slackMessage (alert: Alert, description: string) {
  const title = `${EMOJI[alert.severity]} ${alert.severity.toUpperCase()}: ${alert.rule}${alert.digest ? ` (×${alert.count})` : ''}`
  return {
    text: cut(`${title}: ${description}`, 3000),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: cut(title, 150), emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: cut(escapeSlack(description), 3000) } },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: cut(`logfire.io · block ${alert.block.epoch}-${alert.block.index} · ${new Date(alert.time).toISOString()}`, 3000) }]
      }
    ]
  }
}

const PAGERDUTY_SEVERITY: Record<Severity, 'critical' | 'error' | 'warning' | 'info'> = {
  critical: 'critical', high: 'error', medium: 'warning', low: 'info', info: 'info'
}

/** A PagerDuty Events API v2 trigger. The dedup key names the rule and the block, so a retried alert is one incident. */
export function pagerDutyEvent (alert: Alert, description: string, routingKey: string) {
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: cut(`logfire:${alert.rule}:${alert.block.epoch}-${alert.block.index}`, 255),
    payload: {
      summary: cut(description, 1024),
      source: 'logfire.io',
      severity: PAGERDUTY_SEVERITY[alert.severity],
      timestamp: new Date(alert.time).toISOString(),
      component: alert.rule,
      group: 'logfire',
      class: alert.severity,
      custom_details: { block: alert.block, count: alert.count, digest: alert.digest }
    },
    client: 'logfire.io'
  }
}

/** The body of a generic webhook: the alert as GET /alerts shows it. */
export function webhookBody (alert: Alert, description: string) {
  return { type: 'logfire.alert', timestamp: new Date(alert.time).toISOString(), data: { ...alert, description } }
}

/** Stable across retries, as the Standard Webhooks specification asks. */
export function webhookId (alert: Alert): string {
  return `msg_${alert.rule}_${alert.block.epoch}_${alert.block.index}_${alert.id}`
}
