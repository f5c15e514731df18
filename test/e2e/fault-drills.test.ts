import { redisLossDrill, serviceCrashDrill, type DrillWorld } from '../support/drills/fault-drills.js';
import { startRedisProcess, startSystemProcesses } from '../support/drills/system-processes.js';

// Real processes share a real PostgreSQL; the embedded PGlite of the default run serves one process.
const real = process.env.DATABASE_URL && !process.env.TEST_EMBEDDED_POSTGRES;
const drills = real ? describe : describe.skip;
if (!real) console.info('fault drills skipped: they run the services as separate processes, which needs DATABASE_URL (a real PostgreSQL)');

drills('fault drills with real processes (kill -9 of services and of Redis)', () => {
  const world = {} as DrillWorld;
  let passed = 0;

  beforeAll(async () => {
    world.databaseUrl = process.env.DATABASE_URL!;
    world.redis = await startRedisProcess();
    // A dead instance's entries go to a live one after 2 s idle (30 s in production).
    world.system = await startSystemProcesses({ databaseUrl: world.databaseUrl, redisUrl: world.redis.url, env: { EVENT_CLAIM_IDLE_MS: '2000' } });
  }, 400_000);
  afterAll(async () => {
    // The services' logs stay (their folder is in the failure) when a drill failed.
    await world.system?.stop(passed < 2);
    await world.redis?.stop();
  });

  it('loses, doubles, strands and leaks nothing when orders and inventory are killed mid-rush', async () => {
    const figures = await serviceCrashDrill(world);
    expect(figures.acknowledged).toBeGreaterThan(0);
    expect(figures).toEqual({ ...figures, lost: 0, appliedTwice: 0, stuck: 0, leaked: 0, pendingLeft: 0 });
    passed++;
  }, 300_000);

  it('recovers by itself when Redis is killed and comes back empty: nothing lost, /readyz honest, new products flow', async () => {
    const figures = await redisLossDrill(world);
    expect(figures.acknowledged).toBeGreaterThan(0);
    expect(figures).toEqual({
      ...figures,
      lost: 0, appliedTwice: 0, stuck: 0, leaked: 0, pendingLeft: 0,
      readyWhileDown: 503, readyAfter: 200, newProductReachedInventory: true,
    });
    passed++;
  }, 300_000);
});
