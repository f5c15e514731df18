/**
 * The one list of subgraphs: the gateway's configuration (`<NAME>_URL`), `npm run compose`,
 * `npm start` and the test and bench systems read it. A subgraph's name is its directory under
 * `subgraphs/`, its database schema, its bus source and its `<NAME>_URL` / `<NAME>_PORT`.
 */
export const SUBGRAPHS = [
  { name: 'catalog', port: 4001 },
  { name: 'inventory', port: 4002 },
  { name: 'pricing', port: 4003 },
  { name: 'orders', port: 4004 },
  { name: 'tenant', port: 4005 },
] as const;

export type SubgraphName = (typeof SUBGRAPHS)[number]['name'];

/** Every service on a free port (tests, benches, seeding). */
export const FREE_PORTS = { gateway: 0, ...Object.fromEntries(SUBGRAPHS.map(({ name }) => [name, 0])) } as { gateway: number } & Record<SubgraphName, number>;
