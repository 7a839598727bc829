/** One series of a metric as prom-client's registry prints it. */
export interface SeriesValue { labels: Record<string, string | number>, value: number, metricName?: string }

interface Route { method: string, route: string, sum: number, count: number, buckets: number[], statuses: Map<number, number> }

/**
 * Requests counted by route and status, and timed by route, with plain
 * arithmetic: a Map lookup and a few additions a request. prom-client's
 * Counter and Histogram hash their labels on every call, which cost a
 * one-line POST about 7 µs; here the series are built only when scraped.
 */
export class RequestTally {
  readonly #routes = new Map<string, Route>()
  readonly #bounds: readonly number[]

  /** `bounds`: the histogram's upper bounds in seconds, ascending; +Inf is implied. */
  constructor (bounds: readonly number[]) {
    this.#bounds = bounds
  }

  observe (method: string, route: string, statusCode: number, seconds: number): void {
    const key = `${method} ${route}`
    let tally = this.#routes.get(key)
    if (tally === undefined) {
      tally = { method, route, sum: 0, count: 0, buckets: new Array<number>(this.#bounds.length + 1).fill(0), statuses: new Map() }
      this.#routes.set(key, tally)
    }
    tally.sum += seconds
    tally.count += 1
    let bucket = 0
    while (bucket < this.#bounds.length && seconds > (this.#bounds[bucket] as number)) bucket++
    tally.buckets[bucket] = (tally.buckets[bucket] as number) + 1
    tally.statuses.set(statusCode, (tally.statuses.get(statusCode) ?? 0) + 1)
  }

  /** logfire_http_requests_total's series: by method, route and status code. */
  requests (): SeriesValue[] {
    const values: SeriesValue[] = []
    for (const { method, route, statuses } of this.#routes.values()) {
      for (const [statusCode, count] of statuses) values.push({ labels: { method, route, status_code: statusCode }, value: count })
    }
    return values
  }

  /** A histogram's series, as Prometheus reads them: cumulative buckets by `le`, then the sum and the count. */
  durations (name: string): SeriesValue[] {
    const values: SeriesValue[] = []
    for (const { method, route, sum, count, buckets } of this.#routes.values()) {
      let cumulative = 0
      buckets.forEach((inBucket, i) => {
        cumulative += inBucket
        values.push({ labels: { le: i < this.#bounds.length ? this.#bounds[i] as number : '+Inf', method, route }, value: cumulative, metricName: `${name}_bucket` })
      })
      values.push({ labels: { method, route }, value: sum, metricName: `${name}_sum` })
      values.push({ labels: { method, route }, value: count, metricName: `${name}_count` })
    }
    return values
  }
}
