import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { loadConfig } from '../src/config.js'

// deploy/kubernetes.yaml cannot run here (no Kubernetes): what matters in it is checked instead.
interface Resource { kind: string, metadata: { name: string }, spec: Record<string, any> }
const resources = parseAllDocuments(readFileSync('deploy/kubernetes.yaml', 'utf8')).map((document) => document.toJS() as Resource)
const one = (kind: string, name: string): Resource => {
  const found = resources.find((resource) => resource.kind === kind && resource.metadata.name === name)
  if (found === undefined) throw new Error(`no ${kind} ${name}`)
  return found
}
const logfire = one('Deployment', 'logfire')
const container = logfire.spec.template.spec.containers[0]
const env = new Map<string, { value?: string, valueFrom?: unknown }>(container.env.map((variable: { name: string }) => [variable.name, variable]))
const redis = one('StatefulSet', 'redis-cluster')

describe('the Kubernetes example (deploy/kubernetes.yaml)', () => {
  it('parses, and holds the Deployment, its Service and PodDisruptionBudget, and a Redis Cluster', () => {
    expect(resources.map((resource) => `${resource.kind}/${resource.metadata.name}`).sort()).toEqual([
      'Deployment/logfire', 'Job/redis-cluster-create', 'PodDisruptionBudget/logfire', 'PodDisruptionBudget/redis-cluster',
      'Secret/logfire', 'Service/logfire', 'Service/redis-cluster', 'StatefulSet/redis-cluster'
    ])
  })

  it('runs replicas that a balancer takes in on /readyz and restarts on /healthz, on the port logfire listens on', () => {
    expect(logfire.spec.replicas).toBeGreaterThanOrEqual(2)
    const port = container.ports.find((p: { name: string }) => p.name === container.readinessProbe.httpGet.port)
    expect(port.containerPort).toBe(Number(env.get('PORT')?.value))
    expect(container.readinessProbe.httpGet.path).toBe('/readyz')
    expect(container.livenessProbe.httpGet.path).toBe('/healthz')
    // A rolling deploy never goes below the replicas running.
    expect(logfire.spec.strategy.rollingUpdate.maxUnavailable).toBe(0)
  })

  it('gives the variables logfire reads, with values its config takes', () => {
    const literal = Object.fromEntries([...env].flatMap(([name, variable]) => variable.value === undefined ? [] : [[name, variable.value]]))
    const config = loadConfig({ ...literal, LOGFIRE_ADMIN_TOKEN: 'from-the-secret', LOGFIRE_REPLICA_NAME: 'logfire-abc' })
    expect(config.fires.mode).toBe('open')
    expect(config.redis).toMatchObject({ waitReplicas: 1, replica: 'logfire-abc' })
    // Every node of the StatefulSet is a seed, by its stable name.
    const seeds = (config.redis as { cluster: readonly string[] }).cluster
    expect(seeds).toEqual(Array.from({ length: redis.spec.replicas }, (_, i) => `redis://${redis.metadata.name}-${i}.${redis.spec.serviceName}:6379`))
    expect(env.get('LOGFIRE_ADMIN_TOKEN')?.valueFrom).toEqual({ secretKeyRef: { name: 'logfire', key: 'LOGFIRE_ADMIN_TOKEN' } })
  })

  it('routes its Service and bounds disruptions by the pods\' labels', () => {
    const labels = logfire.spec.template.metadata.labels
    const service = one('Service', 'logfire')
    expect(service.spec.selector).toEqual(labels)
    expect(service.spec.ports[0].targetPort).toBe(container.readinessProbe.httpGet.port)
    const budget = one('PodDisruptionBudget', 'logfire')
    expect(budget.spec.selector.matchLabels).toEqual(labels)
    expect(budget.spec.minAvailable).toBeLessThan(logfire.spec.replicas)
    expect(one('PodDisruptionBudget', 'redis-cluster').spec.maxUnavailable).toBe(1)
  })

  it('runs Redis as docs/scaling.md asks: a cluster of 3 masters with a replica each, that stops only a dead master\'s slots, and never evicts', () => {
    expect(redis.spec.replicas).toBe(6)
    const args = (redis.spec.template.spec.containers[0].command as string[]).join(' ')
    for (const setting of ['--cluster-enabled yes', '--cluster-require-full-coverage no', '--appendonly yes', '--maxmemory-policy noeviction', '--cluster-node-timeout 2000']) expect(args).toContain(setting)
    expect(one('Service', 'redis-cluster').spec.clusterIP).toBe('None')
    expect(one('Job', 'redis-cluster-create').spec.template.spec.containers[0].command.join(' ')).toContain('--cluster-replicas 1')
  })
})
