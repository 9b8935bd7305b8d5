import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadAccessSettings } from '../../bot/access/accountAccess';
import { loadBotSettings } from '../../bot/botSettings';
import { loadConfig } from '../../services/config';

/** The ARM templates and parameter files in deploymentTemplates/, checked without Azure. */

const ROOT = path.resolve(__dirname, '..', '..');
const DIR = path.join(ROOT, 'deploymentTemplates');
const jsonFiles = readdirSync(DIR).filter((name) => name.endsWith('.json'));
const parameterFiles = jsonFiles.filter((name) => name.endsWith('.parameters.json'));
const templateFiles = jsonFiles.filter((name) => !name.endsWith('.parameters.json'));

interface Parameter {
  type: string;
  defaultValue?: unknown;
  allowedValues?: unknown[];
}

interface Resource {
  type: string;
  apiVersion: string;
  name: string;
  condition?: string;
  kind?: string;
  sku?: { name: string };
  location?: string;
  properties?: Record<string, unknown>;
}

interface Template {
  $schema: string;
  parameters: Record<string, Parameter>;
  variables: Record<string, unknown>;
  resources: Resource[];
  outputs: Record<string, { value: unknown }>;
}

interface ParameterFile {
  $schema: string;
  parameters: Record<string, { value: unknown }>;
}

function readJson(name: string): unknown {
  return JSON.parse(readFileSync(path.join(DIR, name), 'utf8'));
}

/** Every string in a JSON value, keys included. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, inner]) => [key, ...strings(inner)]);
  }
  return [];
}

const CALLS = {
  parameters: /\bparameters\(\s*'([^']*)'\s*\)/g,
  variables: /\bvariables\(\s*'([^']*)'\s*\)/g,
};

/** The names used in `parameters('name')` or `variables('name')` calls anywhere in the value. */
function namesUsed(value: unknown, fn: keyof typeof CALLS): Set<string> {
  return new Set(strings(value).flatMap((text) => [...text.matchAll(CALLS[fn])].map((m) => m[1] ?? '')));
}

const template = (name: string) => readJson(name) as Template;

/** The template a parameter file is for: `azuredeploy.x.parameters.json` is for `azuredeploy.json`. */
const templateOf = (parameterFile: string) => `${parameterFile.split('.')[0] ?? ''}.json`;

/** The setting names the configuration modules read: the keys of their zod schemas. */
function configurationSettingNames(): Set<string> {
  const sources = ['services/config.ts', 'bot/botSettings.ts', 'bot/access/accountAccess.ts'].map((file) =>
    readFileSync(path.join(ROOT, file), 'utf8'),
  );
  const key = /^\s+([A-Z][A-Z0-9_]*[A-Z0-9]|MicrosoftApp[A-Za-z]+):/gm;
  return new Set(sources.flatMap((source) => [...source.matchAll(key)].map((m) => m[1] ?? '')));
}

/** Names the App Service platform or npm read, not the bot's configuration. */
const isPlatformSetting = (name: string) =>
  name === 'NODE_ENV' || /^(WEBSITE|SCM)_[A-Z0-9_]+$/.test(name) || /^NPM_CONFIG_[A-Z0-9_]+$/.test(name);

/** Settings the Azure deployment must set. */
const REQUIRED_SETTINGS = [
  'MicrosoftAppId',
  'MicrosoftAppPassword',
  'MicrosoftAppType',
  'MicrosoftAppTenantId',
  'MONGODB_URI',
  'MONGODB_DB',
  'SMTP_URL',
  'MAIL_FROM',
  'INVITE_URL_BASE',
  'ACCOUNT_NAME',
  'ADMINS',
  'DEFAULT_ACCOUNT',
  'TENANT_ACCOUNTS',
  'PUBLIC_URL',
  'REPORT_LINK_SECRET',
  'LOCAL_CHANNEL',
  'LOG_LEVEL',
  'NODE_ENV',
  'DATA_DIR',
];

/** Parameters carrying secrets. */
const isSecretParameter = (name: string) => /password|secret|mongodbUri|smtpUrl/i.test(name);

/** The API versions in use: generally available ones, checked against the Azure resource reference. */
const API_VERSIONS: Record<string, string> = {
  'Microsoft.Web/serverfarms': '2024-04-01',
  'Microsoft.Web/sites': '2024-04-01',
  'Microsoft.BotService/botServices': '2022-09-15',
  'Microsoft.BotService/botServices/channels': '2022-09-15',
  'Microsoft.ManagedIdentity/userAssignedIdentities': '2023-01-31',
  'Microsoft.DocumentDB/mongoClusters': '2024-07-01',
  'Microsoft.DocumentDB/mongoClusters/firewallRules': '2024-07-01',
};

describe('deploymentTemplates', () => {
  it('has a template and parameter files for it', () => {
    expect(templateFiles).toEqual(['azuredeploy.json']);
    expect(parameterFiles.length).toBeGreaterThanOrEqual(2);
    for (const file of parameterFiles) expect(templateFiles).toContain(templateOf(file));
  });

  it.each(jsonFiles)('%s is valid JSON', (name) => {
    expect(() => readJson(name)).not.toThrow();
  });

  describe.each(templateFiles)('%s', (name) => {
    const t = template(name);

    it('is an ARM deployment template', () => {
      expect(t.$schema).toMatch(
        /^https:\/\/schema\.management\.azure\.com\/schemas\/[\d-]+\/deploymentTemplate\.json#$/,
      );
    });

    it('declares every parameter and variable it uses, and uses every one it declares', () => {
      const usedParameters = namesUsed(t, 'parameters');
      const usedVariables = namesUsed(t, 'variables');
      expect([...usedParameters].filter((p) => !(p in t.parameters))).toEqual([]);
      expect([...usedVariables].filter((v) => !(v in t.variables))).toEqual([]);
      expect(Object.keys(t.parameters).filter((p) => !usedParameters.has(p))).toEqual([]);
      expect(Object.keys(t.variables).filter((v) => !usedVariables.has(v))).toEqual([]);
    });

    it('takes secrets only as secureString parameters, without defaults, and never outputs them', () => {
      const secrets = Object.keys(t.parameters).filter(isSecretParameter);
      expect(secrets.sort()).toEqual(
        ['appPassword', 'cosmosAdminPassword', 'mongodbUri', 'reportLinkSecret', 'smtpUrl'].sort(),
      );
      for (const secret of secrets) {
        expect([secret, t.parameters[secret]?.type]).toEqual([secret, 'secureString']);
        expect([secret, t.parameters[secret]?.defaultValue ?? '']).toEqual([secret, '']);
      }
      for (const secret of Object.keys(t.parameters).filter(
        (p) => t.parameters[p]?.type === 'secureString',
      )) {
        expect([...namesUsed(t.outputs, 'parameters')]).not.toContain(secret);
        expect([...namesUsed(t.variables, 'parameters')]).not.toContain(secret);
      }
    });

    it('uses current, generally available API versions', () => {
      for (const resource of t.resources) {
        expect([resource.type, resource.apiVersion]).toEqual([resource.type, API_VERSIONS[resource.type]]);
      }
      const expressions = strings(t).filter((text) => text.includes('reference('));
      const referenced = expressions.flatMap((text) =>
        [...text.matchAll(/reference\(variables\('\w+'\), '([\d-]+)'\)/g)].map((m) => m[1]),
      );
      const calls = expressions.reduce((n, text) => n + text.split('reference(').length - 1, 0);
      expect(referenced).toHaveLength(calls);
      expect(calls).toBeGreaterThan(0);
      for (const version of referenced) expect(Object.values(API_VERSIONS)).toContain(version);
    });

    const byType = (type: string) => t.resources.filter((r) => r.type === type);

    it('creates a Linux Web App on Node 20 LTS, https only, TLS 1.2, no FTP, with a health check', () => {
      const [plan] = byType('Microsoft.Web/serverfarms');
      expect(plan?.kind).toBe('linux');
      expect(plan?.properties).toMatchObject({ reserved: true });
      const [site] = byType('Microsoft.Web/sites');
      expect(site?.kind).toBe('app,linux');
      expect(site?.properties).toMatchObject({
        httpsOnly: true,
        siteConfig: {
          linuxFxVersion: 'NODE|20-lts',
          appCommandLine: 'npm start',
          alwaysOn: true,
          minTlsVersion: '1.2',
          ftpsState: 'Disabled',
          healthCheckPath: '/healthz',
        },
      });
      expect(readFileSync(path.join(ROOT, 'bot', 'httpServer.ts'), 'utf8')).toContain("'/healthz'");
    });

    it('creates an Azure Bot, single-tenant or with a user-assigned managed identity, on the Teams channel', () => {
      expect(t.parameters.appType?.allowedValues).toEqual(['SingleTenant', 'UserAssignedMSI']);
      expect(t.parameters.botSku?.allowedValues).toEqual(['F0', 'S1']);
      const [bot] = byType('Microsoft.BotService/botServices');
      expect(bot).toMatchObject({
        kind: 'azurebot',
        location: 'global',
        sku: { name: "[parameters('botSku')]" },
      });
      expect(bot?.properties).toMatchObject({
        endpoint: "[variables('messagingEndpoint')]",
        msaAppType: "[parameters('appType')]",
        msaAppTenantId: "[parameters('appTenantId')]",
      });
      expect(String(bot?.properties?.msaAppMSIResourceId)).toContain("variables('identityId')");
      expect(t.variables.messagingEndpoint).toBe("[concat(variables('publicUrl'), '/api/messages')]");
      expect(t.variables.publicUrl).toBe(
        "[concat('https://', parameters('webAppName'), '.azurewebsites.net')]",
      );
      const [teams] = byType('Microsoft.BotService/botServices/channels');
      expect(teams?.name).toMatch(/\/MsTeamsChannel'\)\]$/);
      expect(teams?.properties).toMatchObject({
        channelName: 'MsTeamsChannel',
        properties: { isEnabled: true },
      });
      const [identity] = byType('Microsoft.ManagedIdentity/userAssignedIdentities');
      expect(identity?.condition).toBe("[variables('isMsi')]");
      expect(t.variables.isMsi).toBe("[equals(parameters('appType'), 'UserAssignedMSI')]");
    });

    it('creates the Cosmos DB for MongoDB (vCore) cluster, reachable from Azure, only when asked', () => {
      expect(t.parameters.deployCosmos).toMatchObject({ type: 'bool', defaultValue: false });
      const cosmos = [
        ...byType('Microsoft.DocumentDB/mongoClusters'),
        ...byType('Microsoft.DocumentDB/mongoClusters/firewallRules'),
      ];
      expect(cosmos).toHaveLength(2);
      for (const resource of cosmos) expect(resource.condition).toBe("[parameters('deployCosmos')]");
      expect(byType('Microsoft.DocumentDB/mongoClusters/firewallRules')[0]?.properties).toEqual({
        startIpAddress: '0.0.0.0',
        endIpAddress: '0.0.0.0',
      });
    });

    describe('app settings', () => {
      const [site] = byType('Microsoft.Web/sites');
      const appSettings = (site?.properties?.siteConfig as { appSettings: { name: string; value: string }[] })
        .appSettings;
      const names = appSettings.map((s) => s.name);
      const value = (name: string) => appSettings.find((s) => s.name === name)?.value;

      it('are named exactly as the configuration reads them', () => {
        const configured = configurationSettingNames();
        for (const known of ['MONGODB_URI', 'SMTP_URL', 'INVITE_URL_BASE', 'ADMINS', 'MicrosoftAppId']) {
          expect(configured).toContain(known);
        }
        expect(names.filter((n) => !configured.has(n) && !isPlatformSetting(n))).toEqual([]);
        expect(REQUIRED_SETTINGS.filter((n) => !names.includes(n))).toEqual([]);
        expect(new Set(names).size).toBe(names.length);
      });

      it('switch the local Web Chat off and run in production', () => {
        expect(value('LOCAL_CHANNEL')).toBe('off');
        expect(value('NODE_ENV')).toBe('production');
        expect(value('PUBLIC_URL')).toBe("[variables('publicUrl')]");
        expect(value('MicrosoftAppType')).toBe("[parameters('appType')]");
      });

      it('use the password only for a single-tenant bot and the cluster only when deployed', () => {
        expect(value('MicrosoftAppPassword')).toBe("[if(variables('isMsi'), '', parameters('appPassword'))]");
        expect(value('MONGODB_URI')).toMatch(
          /^\[if\(parameters\('deployCosmos'\), .*, parameters\('mongodbUri'\)\)\]$/,
        );
      });

      it('pass the configuration checks with the template defaults', () => {
        const samples: Record<string, string> = {
          mailFrom: 'Acme IT <it@acme.com>',
          inviteUrlBase: 'https://app.acme.com/invite',
          accountName: 'Acme',
          mongodbUri: 'mongodb+srv://u:p@cluster.example.net/',
          appId: '00000000-0000-0000-0000-000000000001',
          appPassword: 'secret',
          appTenantId: '00000000-0000-0000-0000-000000000002',
        };
        const env: Record<string, string> = {};
        for (const setting of appSettings) {
          const parameter = /^\[parameters\('(\w+)'\)\]$/.exec(setting.value)?.[1];
          const fallback = parameter ? t.parameters[parameter]?.defaultValue : setting.value;
          const literal = typeof fallback === 'string' && !fallback.startsWith('[') ? fallback : undefined;
          const sample = parameter ? samples[parameter] : undefined;
          if (sample !== undefined || literal !== undefined) env[setting.name] = sample ?? literal ?? '';
        }
        env.MicrosoftAppId = samples.appId ?? '';
        env.MicrosoftAppPassword = samples.appPassword ?? '';
        env.MONGODB_URI = samples.mongodbUri ?? '';
        expect(loadConfig(env)).toMatchObject({
          localChannel: 'off',
          logLevel: 'info',
          dataDir: '/home/data',
        });
        expect(loadBotSettings(env).authenticated).toBe(true);
        expect(loadAccessSettings(env).defaultAccount).toBe('default');
        for (const level of t.parameters.logLevel?.allowedValues ?? []) {
          expect(loadConfig({ ...env, LOG_LEVEL: String(level) }).logLevel).toBe(level);
        }
        for (const appType of t.parameters.appType?.allowedValues ?? []) {
          const msi = appType === 'UserAssignedMSI';
          const settings = loadBotSettings({
            ...env,
            MicrosoftAppType: String(appType),
            ...(msi ? { MicrosoftAppPassword: '' } : {}),
          });
          expect(settings.auth.MicrosoftAppType).toBe(appType);
        }
      });
    });
  });

  describe.each(parameterFiles)('%s', (name) => {
    const file = readJson(name) as ParameterFile;
    const t = template(templateOf(name));

    it('is an ARM parameter file naming only the template parameters, with no secrets', () => {
      expect(file.$schema).toMatch(/deploymentParameters\.json#$/);
      const given = Object.keys(file.parameters);
      expect(given.filter((p) => !(p in t.parameters))).toEqual([]);
      expect(given.filter((p) => t.parameters[p]?.type === 'secureString')).toEqual([]);
    });

    it('gives every parameter that has no default, with values of the declared type', () => {
      const missing = Object.entries(t.parameters)
        .filter(([p, declared]) => declared.defaultValue === undefined && !(p in file.parameters))
        .map(([p]) => p);
      expect(missing).toEqual([]);
      for (const [p, { value }] of Object.entries(file.parameters)) {
        const declared = t.parameters[p];
        const type = declared?.type === 'bool' ? 'boolean' : declared?.type === 'int' ? 'number' : 'string';
        expect([p, typeof value]).toEqual([p, type]);
        if (declared?.allowedValues) expect(declared.allowedValues).toContain(value);
      }
    });
  });
});
