import { GraphQLError } from 'graphql';
import { metrics } from '../../../lib/observability/metrics.js';
import type { RateLimitStore } from '../limits/rate-limiter.js';
import type { Authenticator } from './authenticator.js';

export interface AuthFailureLimit extends Authenticator {
  /** Seconds until `clientAddress` may try again; 0 when it may now. */
  blockedFor(clientAddress: string): Promise<number>;
}

/** The error of a client address that failed too often: RATE_LIMITED, HTTP 429 with Retry-After. */
export function tooManyFailures(retryAfterSeconds: number): GraphQLError {
  return new GraphQLError(`Too many failed authentications from this address; retry in ${retryAfterSeconds} s.`, {
    extensions: {
      code: 'RATE_LIMITED',
      retryAfterSeconds,
      http: { status: 429, headers: { 'Retry-After': String(retryAfterSeconds) } },
    },
  });
}

/**
 * Counts failed authentications (UNAUTHENTICATED: an unknown or revoked API key, a bad JWT, an
 * unknown tenant) per client address in the rate-limit store's one-minute windows. Once an
 * address has failed `perMinute` times, everything it sends is refused with 429 for the rest of
 * the window, before any lookup: guessing keys costs the guesser, not the tenant subgraph.
 */
export function limitAuthFailures(authenticator: Authenticator, options: { store: RateLimitStore; perMinute: number }): AuthFailureLimit {
  const subject = (clientAddress: string) => `authfail:${clientAddress}`;
  const blockedFor = async (clientAddress: string) => {
    const { count, resetSeconds } = await options.store.peek(subject(clientAddress));
    return count >= options.perMinute ? resetSeconds : 0;
  };
  return {
    blockedFor,
    async authenticate(headers, clientAddress = 'unknown') {
      const wait = await blockedFor(clientAddress);
      if (wait > 0) {
        metrics.authFailures.inc({ outcome: 'blocked' });
        throw tooManyFailures(wait);
      }
      try {
        return await authenticator.authenticate(headers, clientAddress);
      } catch (error) {
        if (error instanceof GraphQLError && error.extensions?.code === 'UNAUTHENTICATED') {
          metrics.authFailures.inc({ outcome: 'failed' });
          await options.store.hit(subject(clientAddress));
        }
        throw error;
      }
    },
  };
}
