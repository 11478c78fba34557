/**
 * The views of the lab, one line each, in the order of their keys (Ctrl+1 …).
 * A new view: a folder under views/ with a module exporting a View (see
 * shell/registry.ts), and a line here.
 */
import { registerView } from '../shell/registry.js';
import { consolesView } from './consoles/index.js';
import { editorView } from './editor/index.js';
import { eventsView } from './events/index.js';
import { exerciseView } from './exercise/index.js';
import { inspectorView } from './inspector/index.js';
import { problemsView } from './problems/index.js';
import { topologyView } from './topology/index.js';
import { timelineView } from './timeline/index.js';

registerView(editorView);
registerView(consolesView);
registerView(problemsView);
registerView(topologyView);
registerView(eventsView);
registerView(inspectorView);
registerView(timelineView);
registerView(exerciseView);
