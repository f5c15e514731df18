/** WebSocket close codes of the graphql-transport-ws protocol (graphql-ws), plus ours. */
export enum CloseCode {
  InternalServerError = 4500,
  BadRequest = 4400,
  Unauthorized = 4401,
  Forbidden = 4403,
  SubprotocolNotAcceptable = 4406,
  ConnectionInitialisationTimeout = 4408,
  ConnectionAcknowledgementTimeout = 4504,
  SubscriberAlreadyExists = 4409,
  TooManyInitialisationRequests = 4429,
  /** Ours, with the same number: too many failed authentications from this client address; the reason says when to retry. */
  // eslint-disable-next-line @typescript-eslint/no-duplicate-enum-values -- the same code on purpose (see above)
  RateLimited = 4429,
  /** Ours: the client read too slowly and too many updates waited for it. */
  SlowConsumer = 4413,
  /**
   * WebSocket's own "Try Again Later": the gateway could not check the credential now (the tenant
   * directory is unavailable or overloaded). graphql-ws clients retry it; never a 4403.
   */
  TryAgainLater = 1013,
  /** Ours: no pong to our pings. */
  Unresponsive = 4410,
}
