import path from 'node:path';
import { loadConfig } from '../../services/config';
import { isAppError, type AppError } from '../../services/errors';

function configError(env: NodeJS.ProcessEnv): AppError {
  try {
    loadConfig(env);
  } catch (err) {
    if (isAppError(err, 'config-invalid')) return err;
    throw err;
  }
  throw new Error(`expected config-invalid for ${JSON.stringify(env)}`);
}

const MB = 1024 * 1024;

describe('loadConfig defaults', () => {
  it('fills every setting with its documented default', () => {
    expect(loadConfig({})).toEqual({
      mongodbUri: undefined,
      mongodbDb: 'enrollment',
      dataDir: path.resolve('data'),
      cacheDir: path.resolve('.cache'),
      embeddedDb: 'auto',
      smtpUrl: undefined,
      mailFrom: 'Enrollment Assistant <no-reply@enrollment.local>',
      inviteUrlBase: 'http://localhost:3978/invite',
      accountName: 'your account',
      inviteTtlDays: 14,
      inviteReminderDays: 0,
      maxFileBytes: 20971520,
      port: 3978,
      logLevel: 'info',
      localChannel: 'auto',
      publicUrl: 'http://localhost:3978',
      reportLinkSecret: undefined,
      reportLinkTtlHours: 72,
      undoWindowDays: 14,
      nluEngine: 'local',
    });
  });

  it('defaults PUBLIC_URL to localhost on the configured port', () => {
    expect(loadConfig({ PORT: '8080' }).publicUrl).toBe('http://localhost:8080');
  });

  it('resolves DATA_DIR and CACHE_DIR to absolute paths', () => {
    const config = loadConfig({ DATA_DIR: 'var/enroll', CACHE_DIR: '../cache' });
    expect(path.isAbsolute(config.dataDir)).toBe(true);
    expect(config.dataDir).toBe(path.join(process.cwd(), 'var', 'enroll'));
    expect(config.cacheDir).toBe(path.resolve(process.cwd(), '..', 'cache'));
    expect(loadConfig({ DATA_DIR: '/srv/data' }).dataDir).toBe(path.resolve('/srv/data'));
  });

  it('treats an empty MONGODB_URI or SMTP_URL as unset', () => {
    expect(loadConfig({ MONGODB_URI: '', SMTP_URL: '   ' })).toMatchObject({
      mongodbUri: undefined,
      smtpUrl: undefined,
    });
  });

  it('ignores unrelated environment variables', () => {
    expect(loadConfig({ HOME: '/root', PATH: '/bin', NODE_ENV: 'test' }).port).toBe(3978);
  });
});

describe('loadConfig values', () => {
  it.each([
    ['20MB', 20 * MB],
    ['512KB', 512 * 1024],
    ['512 KB', 512 * 1024],
    ['512kb', 512 * 1024],
    ['1.5MB', 1.5 * MB],
    ['1GB', 1024 * MB],
    ['1048576', 1048576],
    ['100B', 100],
    [' 2MB ', 2 * MB],
  ])('reads MAX_FILE_SIZE=%j as %d bytes', (text, bytes) => {
    expect(loadConfig({ MAX_FILE_SIZE: text }).maxFileBytes).toBe(bytes);
  });

  it('accepts valid URIs, URLs, ports, levels and engines', () => {
    expect(
      loadConfig({
        MONGODB_URI: 'mongodb+srv://user:pw@cluster0.example.net/?retryWrites=true',
        MONGODB_DB: 'enroll_prod',
        SMTP_URL: 'smtps://user:pass@smtp.example.com:465',
        INVITE_URL_BASE: 'https://app.example.com/invite',
        PORT: '8080',
        LOG_LEVEL: 'debug',
        EMBEDDED_DB: 'ferretdb',
        MAIL_FROM: 'Acme IT <it@acme.com>',
        ACCOUNT_NAME: ' Acme ',
      }),
    ).toMatchObject({
      mongodbUri: 'mongodb+srv://user:pw@cluster0.example.net/?retryWrites=true',
      mongodbDb: 'enroll_prod',
      smtpUrl: 'smtps://user:pass@smtp.example.com:465',
      inviteUrlBase: 'https://app.example.com/invite',
      port: 8080,
      logLevel: 'debug',
      embeddedDb: 'ferretdb',
      mailFrom: 'Acme IT <it@acme.com>',
      accountName: 'Acme',
    });
    expect(loadConfig({ MONGODB_URI: 'mongodb://localhost:27017' }).mongodbUri).toBe(
      'mongodb://localhost:27017',
    );
    expect(loadConfig({ PORT: '0' }).port).toBe(0);
  });

  it('reads the report link settings', () => {
    const secret = 'x'.repeat(32);
    expect(
      loadConfig({
        PUBLIC_URL: ' https://bot.example.com/enroll/ ',
        REPORT_LINK_SECRET: secret,
        REPORT_LINK_TTL: '24',
      }),
    ).toMatchObject({
      publicUrl: 'https://bot.example.com/enroll',
      reportLinkSecret: secret,
      reportLinkTtlHours: 24,
    });
    expect(loadConfig({ PUBLIC_URL: 'http://10.0.0.5:3978' }).publicUrl).toBe('http://10.0.0.5:3978');
    expect(loadConfig({ REPORT_LINK_TTL: '1' }).reportLinkTtlHours).toBe(1);
    expect(loadConfig({ REPORT_LINK_TTL: '720' }).reportLinkTtlHours).toBe(720);
    expect(loadConfig({ INVITE_TTL_DAYS: '1' }).inviteTtlDays).toBe(1);
    expect(loadConfig({ INVITE_TTL_DAYS: ' 30 ' }).inviteTtlDays).toBe(30);
    expect(loadConfig({ INVITE_TTL_DAYS: '' }).inviteTtlDays).toBe(14);
    expect(loadConfig({ INVITE_REMINDER_DAYS: '3' }).inviteReminderDays).toBe(3);
    expect(loadConfig({ INVITE_REMINDER_DAYS: '0' }).inviteReminderDays).toBe(0);
    expect(loadConfig({ INVITE_REMINDER_DAYS: ' ' }).inviteReminderDays).toBe(0);
    expect(loadConfig({ UNDO_WINDOW_DAYS: '1' }).undoWindowDays).toBe(1);
    expect(loadConfig({ UNDO_WINDOW_DAYS: ' 365 ' }).undoWindowDays).toBe(365);
    expect(loadConfig({ UNDO_WINDOW_DAYS: '' }).undoWindowDays).toBe(14);
    expect(loadConfig({ PUBLIC_URL: '', REPORT_LINK_SECRET: ' ', REPORT_LINK_TTL: '' })).toMatchObject({
      publicUrl: 'http://localhost:3978',
      reportLinkSecret: undefined,
      reportLinkTtlHours: 72,
    });
  });
});

describe('loadConfig errors', () => {
  it.each([
    ['MAX_FILE_SIZE', 'lots', /MAX_FILE_SIZE: must be a positive size such as 20MB, 512KB or 1048576/],
    ['MAX_FILE_SIZE', '0', /MAX_FILE_SIZE: must be a positive size/],
    ['MAX_FILE_SIZE', '-5MB', /MAX_FILE_SIZE: must be a positive size/],
    ['MAX_FILE_SIZE', '20TB', /MAX_FILE_SIZE: must be a positive size/],
    ['MAX_FILE_SIZE', '1.2.3MB', /MAX_FILE_SIZE: must be a positive size/],
    ['MAX_FILE_SIZE', '', /MAX_FILE_SIZE: must be a positive size/],
    [
      'MONGODB_URI',
      'http://localhost:27017',
      /MONGODB_URI: must start with mongodb:\/\/ or mongodb\+srv:\/\//,
    ],
    ['MONGODB_URI', 'localhost:27017', /MONGODB_URI: must start with mongodb:\/\//],
    ['MONGODB_DB', 'my-db', /MONGODB_DB: must be letters, digits and underscores/],
    ['SMTP_URL', 'http://mail.example.com', /SMTP_URL: must start with smtp:\/\/ or smtps:\/\//],
    ['SMTP_URL', 'mail.example.com:25', /SMTP_URL: must start with smtp:\/\//],
    ['INVITE_URL_BASE', 'not a url', /INVITE_URL_BASE: must be an absolute URL/],
    ['INVITE_URL_BASE', '/invite', /INVITE_URL_BASE: must be an absolute URL/],
    ['INVITE_URL_BASE', 'ftp://example.com/invite', /INVITE_URL_BASE: must be an http or https URL/],
    ['PORT', 'eighty', /PORT: /],
    ['PORT', '70000', /PORT: /],
    ['PORT', '-1', /PORT: /],
    ['PORT', '80.5', /PORT: /],
    ['LOG_LEVEL', 'verbose', /LOG_LEVEL: .*"debug"\|"info"\|"warn"\|"error"/],
    ['LOG_LEVEL', 'INFO', /LOG_LEVEL: /],
    ['EMBEDDED_DB', 'sqlite', /EMBEDDED_DB: .*"auto"\|"mongodb"\|"ferretdb"/],
    ['MAIL_FROM', 'nobody', /MAIL_FROM: must be an address/],
    ['DATA_DIR', '   ', /DATA_DIR: must not be empty/],
    ['PUBLIC_URL', 'bot.example.com', /PUBLIC_URL: must be an absolute URL/],
    ['PUBLIC_URL', 'ftp://bot.example.com', /PUBLIC_URL: must be an http or https URL/],
    ['PUBLIC_URL', 'https://bot.example.com/?x=1', /PUBLIC_URL: must not have a query or fragment/],
    ['REPORT_LINK_SECRET', 'too-short', /REPORT_LINK_SECRET: must be at least 32 characters/],
    ['REPORT_LINK_TTL', '0', /REPORT_LINK_TTL: must be a whole number of hours from 1 to 720/],
    ['REPORT_LINK_TTL', '721', /REPORT_LINK_TTL: must be a whole number of hours/],
    ['REPORT_LINK_TTL', '1.5', /REPORT_LINK_TTL: must be a whole number of hours/],
    ['REPORT_LINK_TTL', 'three days', /REPORT_LINK_TTL: must be a whole number of hours/],
    ['INVITE_TTL_DAYS', '0', /INVITE_TTL_DAYS: must be a whole number of days from 1 to 365/],
    ['INVITE_TTL_DAYS', '1.5', /INVITE_TTL_DAYS: must be a whole number of days/],
    ['INVITE_REMINDER_DAYS', '-1', /INVITE_REMINDER_DAYS: must be a whole number of days .* or 0/],
    ['INVITE_REMINDER_DAYS', 'weekly', /INVITE_REMINDER_DAYS: must be a whole number of days/],
    ['UNDO_WINDOW_DAYS', '0', /UNDO_WINDOW_DAYS: must be a whole number of days from 1 to 365/],
    ['UNDO_WINDOW_DAYS', '366', /UNDO_WINDOW_DAYS: must be a whole number of days/],
    ['UNDO_WINDOW_DAYS', '2.5', /UNDO_WINDOW_DAYS: must be a whole number of days/],
  ])('rejects %s=%j, naming the setting', (setting, value, pattern) => {
    const error = configError({ [setting]: value });
    expect(error.message).toMatch(/^Invalid configuration:\n {2}/);
    expect(error.message).toMatch(pattern);
    // Only this setting is blamed (a setting failing two checks is listed once per check).
    expect([...new Set(error.details?.settings as string[])]).toEqual([setting]);
  });

  it('names every offending setting when two are bad', () => {
    const error = configError({ PORT: 'eighty', MAX_FILE_SIZE: 'huge', LOG_LEVEL: 'info' });
    expect(error.message).toMatch(/PORT: /);
    expect(error.message).toMatch(/MAX_FILE_SIZE: must be a positive size/);
    expect(error.message).not.toMatch(/LOG_LEVEL/);
    expect(error.message.split('\n')).toHaveLength(3);
    expect((error.details?.settings as string[]).sort()).toEqual(['MAX_FILE_SIZE', 'PORT']);
  });

  it('names all of several bad settings, one line each', () => {
    const error = configError({
      MONGODB_URI: 'http://db',
      SMTP_URL: 'http://mail',
      INVITE_URL_BASE: 'nope',
      EMBEDDED_DB: 'x',
      LOG_LEVEL: 'loud',
    });
    for (const setting of ['MONGODB_URI', 'SMTP_URL', 'INVITE_URL_BASE', 'EMBEDDED_DB', 'LOG_LEVEL']) {
      expect(error.message.split('\n').some((line) => line.startsWith(`  ${setting}: `))).toBe(true);
    }
  });

  it('does not echo the offending secret-bearing value back', () => {
    const error = configError({ SMTP_URL: 'http://user:hunter2@mail.example.com' });
    expect(error.message).not.toContain('hunter2');
    expect(configError({ REPORT_LINK_SECRET: 'hunter2-short' }).message).not.toContain('hunter2');
  });

  // An empty PORT (as `PORT=` in a compose or .env file leaves it) must not coerce to 0, which would make
  // the server listen on a random port. At commit ea0cd4a it did (z.coerce.number() turns '' into 0).
  it('does not turn an empty PORT into port 0', () => {
    let port: number | undefined;
    try {
      port = loadConfig({ PORT: '' }).port;
    } catch (err) {
      expect(isAppError(err, 'config-invalid')).toBe(true);
      return;
    }
    expect(port).toBe(3978);
    expect(loadConfig({ PORT: '   ' }).port).toBe(3978);
  });
});
