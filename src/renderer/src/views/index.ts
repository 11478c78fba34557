/**
 * The views of the lab, one line each. A new view: a folder under views/
 * with a module exporting a View (see shell/registry.ts), and a line here.
 */
import { registerView } from '../shell/registry.js';
import { consolesView } from './consoles/index.js';
import { editorView } from './editor/index.js';
import { problemsView } from './problems/index.js';
import { timelineView } from './timeline/index.js';

registerView(editorView);
registerView(consolesView);
registerView(problemsView);
registerView(timelineView);
