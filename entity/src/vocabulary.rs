//! Fixed code lists: the genes of the sequencing panel, the OncoTree tumour types and
//! MedDRA's system organ classes.
//!
//! Filters accept codes from these lists, not from the data: whether a code is
//! accepted must say nothing about whether some patient carries it (a code accepted
//! only because one patient outside the caller's scope has it would leak that patient).
//! The gene list holds the panel's actionable and commonly reported genes and the two
//! biomarkers reported as genes (`MSI`, `TMB`); the tumour types are OncoTree codes
//! (plus `SOLID` for tumour-agnostic cohorts).

/// Genes of the profiling panel (and the `MSI` and `TMB` biomarkers), sorted.
pub const GENE_PANEL: &[&str] = &[
    "ABL1", "AKT1", "AKT2", "AKT3", "ALK", "APC", "AR", "ARAF", "ARID1A", "ARID1B", "ARID2", "ATM", "ATR", "ATRX",
    "AXL", "BAP1", "BARD1", "BCL2", "BCOR", "BRAF", "BRCA1", "BRCA2", "BRIP1", "BTK", "CCND1", "CCND2", "CCND3",
    "CCNE1", "CD274", "CDH1", "CDK12", "CDK4", "CDK6", "CDKN1B", "CDKN2A", "CDKN2B", "CHEK1", "CHEK2", "CIC", "CREBBP",
    "CRKL", "CSF1R", "CTNNB1", "DDR2", "DICER1", "DNMT3A", "EGFR", "EP300", "EPHA2", "ERBB2", "ERBB3", "ERBB4",
    "ERCC2", "ERG", "ESR1", "ETV6", "EZH2", "FANCA", "FBXW7", "FGF19", "FGF3", "FGFR1", "FGFR2", "FGFR3", "FGFR4",
    "FLT3", "FOXA1", "GATA3", "GNA11", "GNAQ", "GNAS", "H3-3A", "HRAS", "IDH1", "IDH2", "JAK1", "JAK2", "KDR", "KEAP1",
    "KIT", "KMT2A", "KMT2C", "KMT2D", "KRAS", "MAP2K1", "MAP2K2", "MAP3K1", "MDM2", "MDM4", "MED12", "MET", "MLH1",
    "MSH2", "MSH6", "MSI", "MTOR", "MYC", "MYCN", "NBN", "NF1", "NF2", "NFE2L2", "NOTCH1", "NOTCH2", "NRAS", "NRG1",
    "NTRK1", "NTRK2", "NTRK3", "PALB2", "PBRM1", "PDGFRA", "PDGFRB", "PIK3CA", "PIK3CB", "PIK3R1", "PMS2", "POLE",
    "PPP2R1A", "PTCH1", "PTEN", "RAD51C", "RAD51D", "RAF1", "RB1", "RET", "RHOA", "RICTOR", "RNF43", "ROS1", "SETD2",
    "SF3B1", "SMAD4", "SMARCA4", "SMARCB1", "SMO", "SOX2", "SPOP", "STK11", "SUFU", "TERT", "TMB", "TP53", "TSC1",
    "TSC2", "U2AF1", "VHL",
];

/// OncoTree codes of the tumour types (and `SOLID`), sorted.
pub const ONCOTREE: &[&str] = &[
    "ACC", "ACYC", "ALL", "AML", "AMPCA", "ANSC", "ASTR", "BLCA", "BRCA", "CCRCC", "CESC", "CHOL", "CHRCC", "CLL",
    "COADREAD", "CUP", "DIFG", "DLBCLNOS", "EGC", "EHCH", "ESCA", "ESCC", "EWS", "GB", "GBC", "GINET", "GIST", "HCC",
    "HGSOC", "HNSC", "IHCH", "LGSOC", "LUAD", "LUSC", "MBN", "MEL", "MFH", "MM", "MPNST", "MRT", "NBL", "NSCLC", "OS",
    "PAAD", "PANET", "PLMESO", "PRAD", "PRCC", "RMS", "SARCNOS", "SCLC", "SKCM", "SOLID", "STAD", "TET", "THAP",
    "THPA", "THYM", "UCEC", "UCS", "UM", "USARC", "WDTC",
];

/// The 27 system organ classes of MedDRA, the top level CTCAE v5 sorts its terms by, in
/// MedDRA's spelling (an import accepts them in any case and stores this one).
pub const MEDDRA_SOC: &[&str] = &[
    "Blood and lymphatic system disorders",
    "Cardiac disorders",
    "Congenital, familial and genetic disorders",
    "Ear and labyrinth disorders",
    "Endocrine disorders",
    "Eye disorders",
    "Gastrointestinal disorders",
    "General disorders and administration site conditions",
    "Hepatobiliary disorders",
    "Immune system disorders",
    "Infections and infestations",
    "Injury, poisoning and procedural complications",
    "Investigations",
    "Metabolism and nutrition disorders",
    "Musculoskeletal and connective tissue disorders",
    "Neoplasms benign, malignant and unspecified (incl cysts and polyps)",
    "Nervous system disorders",
    "Pregnancy, puerperium and perinatal conditions",
    "Product issues",
    "Psychiatric disorders",
    "Renal and urinary disorders",
    "Reproductive system and breast disorders",
    "Respiratory, thoracic and mediastinal disorders",
    "Skin and subcutaneous tissue disorders",
    "Social circumstances",
    "Surgical and medical procedures",
    "Vascular disorders",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_are_sorted_and_distinct() {
        for list in [GENE_PANEL, ONCOTREE] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{:?}", list.windows(2).find(|w| w[0] >= w[1]));
        }
    }
}
