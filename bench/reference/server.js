// Serves the reference (@app-connect/core) with the bench connector, for bench/versus.py.
//
// Run from the directory where the reference is installed (NODE_PATH points there), with
// DATABASE_URL=sqlite:<file>, APP_SERVER_SECRET_KEY, HASH_KEY, BENCH_CRM_URL and PORT set.
'use strict';

const { createCoreApp, connectorRegistry } = require('@app-connect/core');
const connector = require('./connector');

const manifest = {
    platforms: {
        bench: {
            name: 'bench',
            displayName: 'Bench CRM',
            authType: 'apiKey',
        },
    },
};

connectorRegistry.setDefaultManifest(manifest);
connectorRegistry.registerConnector('bench', connector, manifest);

const app = createCoreApp();
const port = Number(process.env.PORT || 6066);
app.listen(port, '127.0.0.1', () => {
    console.log(`reference listening on 127.0.0.1:${port}`);
});
