// Runs before `npm start`. In development it builds first, so `npm install && npm start` just works. In
// production (NODE_ENV=production) the deployment has already run `npm run build`, and TypeScript, a
// devDependency, may not even be installed, so it only checks that the build is there.
const { existsSync } = require('node:fs');
const { execSync } = require('node:child_process');
const path = require('node:path');

if (process.env.NODE_ENV === 'production') {
  if (!existsSync(path.join(__dirname, '..', 'dist', 'bot', 'index.js'))) {
    process.stderr.write(
      'dist/bot/index.js is missing: run "npm run build" before starting in production.\n',
    );
    process.exit(1);
  }
} else {
  execSync('npm run -s build', { stdio: 'inherit' });
}
