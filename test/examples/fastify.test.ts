import { start } from '../../examples/fastify.js';
import { integrationSuite } from './http-integration.js';

integrationSuite('fastify', 'Fastify', start);
