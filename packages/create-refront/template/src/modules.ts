import type { ServiceModule } from '@refront/data';
import { notesModule } from './notes/module.js';

/** The app's services, in start order. Add a service: write its module and list it here. */
export const MODULES: readonly ServiceModule[] = [notesModule];
