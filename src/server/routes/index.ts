// Every route group, one file per core concept. Add a line here to register one.
import type { FastifyInstance } from 'fastify';
import { authRoutes } from './auth.routes.ts';
import { usersRoutes } from './users.routes.ts';
import { keysRoutes } from './keys.routes.ts';
import { settingsRoutes } from './settings.routes.ts';
import { auditRoutes } from './audit.routes.ts';
import { customersRoutes } from './customers.routes.ts';
import { privacyRoutes } from './privacy.routes.ts';
import { healthRoutes } from './health.routes.ts';
import { importsRoutes } from './imports.routes.ts';
import { ingestRoutes } from './ingest.routes.ts';
import { dataRoutes } from './data.routes.ts';
import { pipelineRoutes } from './pipeline.routes.ts';
import { reportsRoutes } from './reports.routes.ts';
import { qualityRoutes } from './quality.routes.ts';
import { statusRoutes } from './status.routes.ts';
import { segmentsRoutes } from './segments.routes.ts';
import { metricsRoutes } from './metrics.routes.ts';
import { riskRoutes } from './risk.routes.ts';
import { modelsRoutes } from './models.routes.ts';
import { clvRoutes } from './clv.routes.ts';
import { productsRoutes } from './products.routes.ts';
import { webRoutes } from './web.routes.ts';

export async function registerRoutes(app: FastifyInstance): Promise<void> {
  await app.register(healthRoutes);
  await app.register(statusRoutes);
  await app.register(importsRoutes);
  await app.register(ingestRoutes);
  await app.register(dataRoutes);
  await app.register(authRoutes);
  await app.register(usersRoutes);
  await app.register(keysRoutes);
  await app.register(settingsRoutes);
  await app.register(auditRoutes);
  await app.register(customersRoutes);
  await app.register(privacyRoutes);
  await app.register(pipelineRoutes);
  await app.register(reportsRoutes);
  await app.register(qualityRoutes);
  await app.register(segmentsRoutes);
  await app.register(metricsRoutes);
  await app.register(riskRoutes);
  await app.register(modelsRoutes);
  await app.register(clvRoutes);
  await app.register(productsRoutes);
  await app.register(webRoutes);
}
