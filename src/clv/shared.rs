//! Plumbing the CLV models share: the parameter vector of every model struct (names, slice
//! conversions) and, for the unit tests, the check of an analytic gradient against central
//! differences.

/// `NAMES`, `from_slice` and `to_vec` of a model struct whose fields are all f64 parameters, in
/// the order listed (which is the order of the fit's parameter vector and of the outputs).
macro_rules! model_params {
    ($model:ident { $($field:ident),+ $(,)? }) => {
        impl $model {
            #[doc = concat!("Parameter names, in the order of [`", stringify!($model), "::to_vec`].")]
            pub const NAMES: [&'static str; [$(stringify!($field)),+].len()] = [$(stringify!($field)),+];

            #[doc = concat!("The parameters from a slice in [`", stringify!($model), "::NAMES`] order.")]
            ///
            /// Panics when the slice is shorter.
            pub fn from_slice(p: &[f64]) -> $model {
                match p {
                    [$($field,)+ ..] => $model { $($field: *$field),+ },
                    _ => panic!(concat!(stringify!($model), "::from_slice: too few parameters")),
                }
            }

            #[doc = concat!("The parameters in [`", stringify!($model), "::NAMES`] order.")]
            pub fn to_vec(&self) -> Vec<f64> {
                vec![$(self.$field),+]
            }
        }
    };
}
pub(crate) use model_params;

/// Asserts that `analytic` (∂ ln L/∂θ at `p`) equals the central difference of `ll` with step
/// 1e-6 · θᵢ, to `tol` · (1 + |difference|); `label` names the case in the message.
#[cfg(test)]
pub(crate) fn assert_gradient_matches(label: &str, p: &[f64], analytic: &[f64], ll: impl Fn(&[f64]) -> f64, tol: f64) {
    for i in 0..p.len() {
        let h = 1e-6 * p[i];
        let (mut up, mut dn) = (p.to_vec(), p.to_vec());
        up[i] += h;
        dn[i] -= h;
        let fd = (ll(&up) - ll(&dn)) / (2.0 * h);
        assert!((analytic[i] - fd).abs() < tol * (1.0 + fd.abs()), "{label} param {i}: {} vs {fd}", analytic[i]);
    }
}
