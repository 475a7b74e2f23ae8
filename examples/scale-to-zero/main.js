// Stands in for the function/nodeinfo image of the seed's OpenFaaS Function when Trellis runs its
// handler (`node main.js`) as a local process: answers with facts about the node, as nodeinfo does.
import http from 'node:http';
import os from 'node:os';

const port = Number(process.env.PORT ?? 8080);
http
  .createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(
      `Hostname: ${os.hostname()}\nArch: ${os.arch()}\nCPUs: ${os.cpus().length}\nTotal mem: ${Math.round(os.totalmem() / 1048576)}MB\nPlatform: ${os.platform()}\nUptime: ${os.uptime()}\n`,
    );
  })
  .listen(port, process.env.HOST ?? '127.0.0.1');
