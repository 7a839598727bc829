import { Webhook } from 'standardwebhooks'
import type { Alert } from '../engine.js'
import type { BalloonConfig, ChaosConfig, OutputConfig } from './config.js'
import { postJson, DELIVERY_DEFAULTS, type Delivery, type DeliveryOptions } from './delivery.js'
import { pagerDutyEvent, pagerDutyResolve, slackMessage, webhookBody, webhookId } from './payloads.js'

export type Send = (alert: Alert) => Promise<Delivery>

/** How one configured output delivers an alert. The URL and secrets stay in here: they are never logged. */
export function sender (config: Exclude<OutputConfig, BalloonConfig | ChaosConfig>, options: DeliveryOptions = DELIVERY_DEFAULTS, now: () => Date = () => new Date()): Send {
  switch (config.type) {
    case 'slack':
      return (alert) => postJson(config.url, JSON.stringify(slackMessage(alert, alert.description)), {}, options)
    case 'pagerduty':
      return (alert) => {
        const event = alert.resolves === undefined ? pagerDutyEvent(alert, alert.description, config.routingKey) : pagerDutyResolve(alert, config.routingKey)
        return postJson(config.url, JSON.stringify(event), {}, options)
      }
    case 'webhook': {
      const webhook = new Webhook(config.secret)
      return (alert) => {
        const id = webhookId(alert)
        const body = JSON.stringify(webhookBody(alert, alert.description))
        const timestamp = now()
        return postJson(config.url, body, {
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
          'webhook-signature': webhook.sign(id, timestamp, body)
        }, options)
      }
    }
  }
}
