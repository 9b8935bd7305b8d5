import path from 'node:path';

/** The project's root folder, whether this runs from the sources or from `dist/`. */
export function projectRoot(): string {
  const up = path.resolve(__dirname, '..');
  return path.basename(up) === 'dist' ? path.dirname(up) : up;
}

/** The Teams app's manifest template and icons, read from the source tree also when running from `dist/`. */
export const TEAMS_APP_DIR = path.join(projectRoot(), 'teamsApp');
