//! Networks: find, create with a fixed subnet, and list every subnet in use so that the
//! engine can tell the user about overlaps before the daemon does.

use std::collections::HashMap;

use bollard::models::{Ipam, IpamConfig, NetworkCreateRequest};
use bollard::query_parameters::ListNetworksOptions;

use super::{Daemon, Lookup};
use crate::error::Result;

#[derive(Debug, Clone)]
pub struct NetworkInfo {
    pub name: String,
    pub id: String,
    pub subnets: Vec<String>,
    pub labels: HashMap<String, String>,
}

impl Lookup {
    pub async fn networks(&self) -> Result<Vec<NetworkInfo>> {
        let list = self
            .api
            .list_networks(None::<ListNetworksOptions>)
            .await
            .map_err(|e| self.err("listing networks", e))?;
        Ok(list
            .into_iter()
            .map(|n| NetworkInfo {
                name: n.name.unwrap_or_default(),
                id: n.id.unwrap_or_default(),
                subnets: n
                    .ipam
                    .and_then(|i| i.config)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|c| c.subnet)
                    .collect(),
                labels: n.labels.unwrap_or_default(),
            })
            .collect())
    }
}

impl Lookup {
    /// Does the volume `name` exist?
    pub async fn volume_exists(&self, name: &str) -> Result<bool> {
        match self.api.inspect_volume(name).await {
            Ok(_) => Ok(true),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(false),
            Err(e) => Err(self.err(format!("inspecting volume {name}"), e)),
        }
    }

    /// Where the named volume's data is on the daemon's host (`Mountpoint`), when the
    /// volume exists and that path is visible here (a local daemon).
    pub async fn volume_mountpoint(&self, name: &str) -> Result<Option<std::path::PathBuf>> {
        match self.api.inspect_volume(name).await {
            Ok(v) => {
                let p = std::path::PathBuf::from(v.mountpoint);
                Ok(p.is_dir().then_some(p))
            }
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(self.err(format!("inspecting volume {name}"), e)),
        }
    }
}

impl Daemon {
    /// Make sure the named volume exists (created with `labels` when it does not; an
    /// existing one is left as it is). Returns the host path of a volume it just created
    /// (its `Mountpoint`), so the caller can give it an owner; `None` when it existed.
    pub async fn ensure_volume(
        &self,
        name: &str,
        labels: crate::labels::Labels,
    ) -> Result<Option<std::path::PathBuf>> {
        if self.volume_exists(name).await? {
            return Ok(None);
        }
        let created = self
            .api
            .create_volume(bollard::models::VolumeCreateRequest {
                name: Some(name.to_string()),
                labels: Some(labels.to_map().into_iter().collect()),
                ..Default::default()
            })
            .await
            .map_err(|e| self.err(format!("creating volume {name}"), e))?;
        Ok(Some(created.mountpoint.into()))
    }

    /// Create a bridge network; with `subnet` (and its gateway) fixed, else Docker picks a
    /// free subnet.
    pub async fn create_network(
        &self,
        name: &str,
        subnet: Option<(&str, &str)>,
        labels: crate::labels::Labels,
    ) -> Result<()> {
        self.api
            .create_network(NetworkCreateRequest {
                name: name.to_string(),
                driver: Some("bridge".to_string()),
                ipam: subnet.map(|(subnet, gateway)| Ipam {
                    driver: Some("default".to_string()),
                    config: Some(vec![IpamConfig {
                        subnet: Some(subnet.to_string()),
                        gateway: Some(gateway.to_string()),
                        ..Default::default()
                    }]),
                    options: None,
                }),
                labels: Some(labels.to_map().into_iter().collect()),
                ..Default::default()
            })
            .await
            .map_err(|e| {
                let what = subnet.map(|(s, _)| format!(" ({s})")).unwrap_or_default();
                self.err(format!("creating network {name}{what}"), e)
            })?;
        Ok(())
    }
}
