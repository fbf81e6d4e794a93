//! Backend selection: the flex CPU backend always, wgpu behind the `gpu` feature.
//!
//! `auto` picks a wgpu adapter when the feature is built in and one exists (preferring a real
//! GPU over a software adapter), otherwise flex. The choice is returned with a human-readable
//! name so it can be recorded in the manifest.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// What the user asked for (`--backend auto|cpu|wgpu`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendChoice {
    /// wgpu when built in and an adapter exists, else CPU.
    #[default]
    Auto,
    /// The flex CPU backend.
    Cpu,
    /// The wgpu backend (needs the `gpu` feature and an adapter).
    Wgpu,
}

impl std::str::FromStr for BackendChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "wgpu" | "gpu" => Ok(Self::Wgpu),
            other => Err(format!("unknown backend '{other}': use auto, cpu or wgpu")),
        }
    }
}

/// A selected device and what it is.
#[derive(Debug, Clone)]
pub struct SelectedDevice {
    /// The autodiff-enabled device.
    pub device: Device,
    /// `"flex (cpu)"` or `"wgpu: <adapter>"`.
    pub name: String,
}

/// Whether this build contains the wgpu backend.
pub const GPU_BUILT: bool = cfg!(feature = "gpu");

/// Pick the device for `choice`. Errors name the fix (rebuild with `--features gpu`, or use
/// `--backend cpu`).
pub fn select_device(choice: BackendChoice) -> Result<SelectedDevice, String> {
    let cpu = || SelectedDevice {
        device: Device::flex().autodiff(),
        name: "flex (cpu)".into(),
    };
    match choice {
        BackendChoice::Cpu => Ok(cpu()),
        BackendChoice::Auto => Ok(wgpu_device().unwrap_or_else(cpu)),
        BackendChoice::Wgpu => wgpu_device().ok_or_else(|| {
            if GPU_BUILT {
                "--backend wgpu: no wgpu adapter found on this machine; use --backend cpu (or auto)"
                    .to_string()
            } else {
                "--backend wgpu: this binary was built without the `gpu` feature; rebuild with \
                 `cargo build --release --features gpu` or use --backend cpu"
                    .to_string()
            }
        }),
    }
}

#[cfg(feature = "gpu")]
fn wgpu_device() -> Option<SelectedDevice> {
    use burn::tensor::DeviceType;
    // Enumerating is empty when there is no adapter; Device::default() would panic on first use.
    let devices: Vec<Device> = Device::enumerate(DeviceType::Wgpu).into_iter().collect();
    let device = devices.into_iter().next()?;
    let name = format!("wgpu: {device:?}");
    Some(SelectedDevice {
        device: device.autodiff(),
        name,
    })
}

#[cfg(not(feature = "gpu"))]
fn wgpu_device() -> Option<SelectedDevice> {
    None
}

/// The device tests run on: wgpu when the `gpu` feature is on and an adapter exists, else flex.
/// One shared handle per process (parallel tests must not open several wgpu devices).
pub fn test_device() -> Device {
    static DEV: OnceLock<SelectedDevice> = OnceLock::new();
    DEV.get_or_init(|| select_device(BackendChoice::Auto).expect("auto never fails"))
        .device
        .clone()
}
