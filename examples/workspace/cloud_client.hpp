#pragma once
// The sample workspace's side of protocols/workspace-cloud.md, as a chat server would do it:
// register with a one-time token (or reuse saved credentials), get an access token, sync, check
// the license signature with the cloud's public key, and send a statistics document.

#include <string>

namespace workspace {

struct CloudConfig {
    std::string cloud_url;           // HANGAR_CLOUD_URL
    std::string registration_token;  // HANGAR_REGISTRATION_TOKEN (used once)
    std::string collector_url;       // HANGAR_COLLECTOR_URL; default <cloud>/collector
    std::string state_file;          // saved credentials (DATA_DIR/cloud.json)
    std::string unique_id, site_name, version, address;
    int sync_seconds = 43200;
};

// Starts the background loop (returns at once); nothing happens without a cloud URL.
void StartCloud(CloudConfig cfg);
// What the loop has done so far, as JSON (served at GET /cloud).
std::string CloudStateJson();
// Pushes a chat notification to a device through the cloud's gateway (service "apn" or "gcm"),
// as a chat server does for a new message; `id_only` sends only the message id. Returns the
// gateway's status and fills its body.
long Push(
    const std::string& service,
    const std::string& device_token,
    bool id_only,
    std::string& body
);

}  // namespace workspace
