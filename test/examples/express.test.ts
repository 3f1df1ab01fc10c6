import { start } from '../../examples/express.js';
import { integrationSuite } from './http-integration.js';

integrationSuite('express', 'Express', start);
