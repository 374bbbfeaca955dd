// Tailor's web UI entry: picks the page's view from <body data-page>, which the server sets.
import { startAudience } from './view-audience.js';
import { startAudiences } from './view-audiences.js';
import { startOutputs } from './view-outputs.js';

const VIEWS = { audiences: startAudiences, outputs: startOutputs, audience: startAudience };

const start = VIEWS[document.body.dataset.page];
const view = document.getElementById('view');
if (start && view) start(view);
